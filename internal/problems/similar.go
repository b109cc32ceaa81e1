package problems

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Doc is what the similarity index knows of a case: its text's terms and
// the attributes similar cases must or may share.
type Doc struct {
	CaseID    int64
	Number    string
	Title     string
	Category  string
	Seller    string
	Carrier   string
	Tags      []string
	Open      bool
	CreatedAt time.Time
	Terms     map[string]int // term → count in title + description
}

// Query asks for the cases similar to one.
type Query struct {
	Doc      Doc           // the case (its own CaseID is left out of the answer)
	Window   time.Duration // only cases created within this of the case (0: any time)
	MinScore float64       // the least combined score shown
	Limit    int
}

// Match is a similar case with its score and why.
type Match struct {
	CaseID int64    `json:"-"`
	Number string   `json:"case"`
	Title  string   `json:"title"`
	Score  float64  `json:"score"`      // text similarity, boosted by what the cases share, in [0, 1]
	Text   float64  `json:"text_score"` // the TF-IDF cosine of their texts
	Why    []string `json:"why"`
}

// Shared-attribute boosts: a shared seller, carrier or tag makes a repeat
// issue far more likely than the words alone say.
const (
	boostSeller  = 0.15
	boostCarrier = 0.15
	boostTag     = 0.05
	maxTagBoost  = 0.10
	maxBoost     = boostSeller + boostCarrier + maxTagBoost
)

// Index is the in-memory similarity index: an inverted index of the open
// cases' terms per category for candidates, and TF-IDF cosine to score
// them (document frequencies over every case). Only open cases are ever
// answered, so resolved ones leave the postings and the candidate lists
// stay the size of the open backlog. It is safe for concurrent use.
type Index struct {
	mu       sync.RWMutex
	docs     map[int64]*indexed
	postings map[string]map[string][]int64 // category → term → case ids
	perCat   map[string]int                // open cases in the postings, per category
	df       map[string]int                // documents holding each term, all categories and states
}

type indexed struct {
	Doc
	norm float64   // of its TF-IDF vector when indexed (idf drifts a little as cases arrive)
	at   time.Time // the similar_docs row's indexed_at this came from (zero: put directly)
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{docs: map[int64]*indexed{}, postings: map[string]map[string][]int64{}, perCat: map[string]int{},
		df: map[string]int{}}
}

// Len is the number of cases indexed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.docs)
}

// Put adds or replaces a case.
func (x *Index) Put(d Doc) { x.put(d, time.Time{}) }

// put is Put of the row indexed at at.
func (x *Index) put(d Doc, at time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.remove(d.CaseID)
	in := &indexed{Doc: d, at: at}
	for t := range d.Terms {
		x.df[t]++
	}
	if d.Open {
		p := x.postings[d.Category]
		if p == nil {
			p = map[string][]int64{}
			x.postings[d.Category] = p
		}
		for t := range d.Terms {
			p[t] = append(p[t], d.CaseID)
		}
		x.perCat[d.Category]++
	}
	x.docs[d.CaseID] = in
	in.norm = x.norm(d.Terms)
}

// has reports whether case id is in memory from its row indexed at at
// (or a later one).
func (x *Index) has(id int64, at time.Time) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	d, ok := x.docs[id]
	return ok && !d.at.IsZero() && !d.at.Before(at)
}

// Remove takes a case out.
func (x *Index) Remove(id int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.remove(id)
}

func (x *Index) remove(id int64) {
	old, ok := x.docs[id]
	if !ok {
		return
	}
	p := x.postings[old.Category]
	for t := range old.Terms {
		if x.df[t]--; x.df[t] <= 0 {
			delete(x.df, t)
		}
		if !old.Open {
			continue
		}
		ids := p[t]
		if i := slices.Index(ids, id); i >= 0 {
			ids[i] = ids[len(ids)-1]
			ids = ids[:len(ids)-1]
		}
		if len(ids) == 0 {
			delete(p, t)
		} else {
			p[t] = ids
		}
	}
	if old.Open {
		x.perCat[old.Category]--
	}
	delete(x.docs, id)
}

func (x *Index) idf(t string) float64 {
	return math.Log(1 + float64(len(x.docs)+1)/float64(x.df[t]+1))
}

func weight(tf int) float64 { return 1 + math.Log(float64(tf)) }

func (x *Index) norm(terms map[string]int) float64 {
	var s float64
	for t, n := range terms {
		w := weight(n) * x.idf(t)
		s += w * w
	}
	return math.Sqrt(s)
}

// Similar finds the open cases most like q.Doc, with exactly BruteForce's
// answer: candidates are the open cases of the category, within the
// window, that share a term of the query with it — except the query's
// most common terms, as many as can be left out without losing a case
// that reaches MinScore: by Cauchy–Schwarz a case sharing only terms of a
// set S has a cosine of at most |q_S|/|q|, and boosts multiply it by at
// most 1+maxBoost. Each candidate is then scored on all the terms.
func (x *Index) Similar(q Query) []Match {
	x.mu.RLock()
	defer x.mu.RUnlock()
	p := x.postings[q.Doc.Category]
	if p == nil {
		return nil
	}
	qn := x.norm(q.Doc.Terms)
	if qn == 0 {
		return nil
	}
	terms := make([]string, 0, len(q.Doc.Terms))
	for t := range q.Doc.Terms {
		terms = append(terms, t)
	}
	sort.Slice(terms, func(i, j int) bool { return len(p[terms[i]]) > len(p[terms[j]]) })
	bound := q.MinScore / (1 + maxBoost) * qn
	budget, skipped := bound*bound, 0.0
	seen := map[int64]bool{q.Doc.CaseID: true}
	var cands []scored
	for _, t := range terms {
		w := weight(q.Doc.Terms[t]) * x.idf(t)
		if skipped+w*w < budget {
			skipped += w * w // too common to need: it alone cannot lift a case to MinScore
			continue
		}
		for _, id := range p[t] {
			if seen[id] {
				continue
			}
			seen[id] = true
			if d := x.docs[id]; x.eligible(q, d) {
				cands = append(cands, scored{d, x.dot(q.Doc.Terms, d)})
			}
		}
	}
	return x.rank(q, cands)
}

func (x *Index) dot(terms map[string]int, d *indexed) float64 {
	var dot float64
	for t, n := range terms {
		if m, ok := d.Terms[t]; ok {
			idf := x.idf(t)
			dot += weight(n) * weight(m) * idf * idf
		}
	}
	return dot
}

// BruteForce scores every open case of the category: the baseline Similar
// is measured against, and its reference in tests.
func (x *Index) BruteForce(q Query) []Match {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var cands []scored
	for _, d := range x.docs {
		if d.CaseID == q.Doc.CaseID || d.Category != q.Doc.Category || !d.Open || !x.eligible(q, d) {
			continue
		}
		if dot := x.dot(q.Doc.Terms, d); dot > 0 {
			cands = append(cands, scored{d, dot})
		}
	}
	return x.rank(q, cands)
}

type scored struct {
	*indexed
	dot float64
}

func (x *Index) eligible(q Query, d *indexed) bool {
	if q.Window > 0 {
		gap := d.CreatedAt.Sub(q.Doc.CreatedAt)
		if gap < -q.Window || gap > q.Window {
			return false
		}
	}
	return true
}

func (x *Index) rank(q Query, cands []scored) []Match {
	qn := x.norm(q.Doc.Terms)
	if qn == 0 {
		return nil
	}
	var out []Match
	for _, d := range cands {
		if d.norm == 0 {
			continue
		}
		text := math.Min(1, d.dot/(qn*d.norm))
		m := Match{CaseID: d.CaseID, Number: d.Number, Title: d.Title, Text: round(text)}
		boost := 0.0
		if q.Doc.Seller != "" && q.Doc.Seller == d.Seller {
			boost += boostSeller
			m.Why = append(m.Why, "same seller "+d.Seller)
		}
		if q.Doc.Carrier != "" && strings.EqualFold(q.Doc.Carrier, d.Carrier) {
			boost += boostCarrier
			m.Why = append(m.Why, "same carrier "+d.Carrier)
		}
		tb := 0.0
		for _, t := range q.Doc.Tags {
			if slices.Contains(d.Tags, t) {
				tb += boostTag
				m.Why = append(m.Why, "tag "+t)
			}
		}
		boost += math.Min(tb, maxTagBoost)
		m.Score = round(math.Min(1, text*(1+boost)))
		if m.Score >= q.MinScore {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].CaseID > out[j].CaseID
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	// Why: the rarest words they share, for the ones shown.
	for i := range out {
		d := x.docs[out[i].CaseID]
		var shared []string
		for t := range q.Doc.Terms {
			if _, ok := d.Terms[t]; ok {
				shared = append(shared, t)
			}
		}
		sort.Slice(shared, func(a, b int) bool {
			if fa, fb := x.df[shared[a]], x.df[shared[b]]; fa != fb {
				return fa < fb
			}
			return shared[a] < shared[b]
		})
		if len(shared) > 5 {
			shared = shared[:5]
		}
		out[i].Why = append([]string{"similar text: " + strings.Join(shared, ", ")}, out[i].Why...)
	}
	return out
}

func round(f float64) float64 { return math.Round(f*1000) / 1000 }

// Terms are the index terms of a text: lower-cased, accent-folded words of
// three letters or more that are not stop words, lightly stemmed.
func Terms(text string) map[string]int {
	out := map[string]int{}
	for _, w := range strings.FieldsFunc(fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) < 3 || stopWords[w] {
			continue
		}
		out[stem(w)]++
	}
	return out
}

// fold lower-cases text and strips its accents.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stem strips a few English endings so that "charger", "chargers" and
// "charging" meet; it is deliberately light.
func stem(w string) string {
	for _, suf := range []string{"ing", "ies", "es", "ed", "s"} {
		if len(w) > len(suf)+3 && strings.HasSuffix(w, suf) {
			w = strings.TrimSuffix(w, suf)
			if suf == "ies" {
				w += "y"
			}
			break
		}
	}
	return w
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the and for with that this was were are has have had not but from they them their
		you your our ours his her its who what when where which will would can could should been being into out about
		after before than then there here also just very all any some more most other over under again only own same
		too off per via yet did does doing done such each few both how why whom these those itself please thanks thank
		hello dear regards customer order says said told still since got get gets one two der die das und ist nicht
		ein eine les des une est pas pour que qui dans sur del los las una por con che non per het een van niet`) {
		m[w] = true
	}
	return m
}()
