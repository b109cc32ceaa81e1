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
	OpenOnly bool
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
)

// commonShare is the share of a category's cases above which a term is
// too common to find candidates by (it still counts in the score).
const commonShare = 0.2

// Index is the in-memory similarity index: an inverted index of terms per
// category for candidates, and TF-IDF cosine to score them. It is safe for
// concurrent use.
type Index struct {
	mu       sync.RWMutex
	docs     map[int64]*indexed
	postings map[string]map[string][]int64 // category → term → case ids
	perCat   map[string]int
	df       map[string]int // documents holding each term, all categories
}

type indexed struct {
	Doc
	norm float64 // of its TF-IDF vector when indexed
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
func (x *Index) Put(d Doc) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.remove(d.CaseID)
	in := &indexed{Doc: d}
	p := x.postings[d.Category]
	if p == nil {
		p = map[string][]int64{}
		x.postings[d.Category] = p
	}
	for t := range d.Terms {
		p[t] = append(p[t], d.CaseID)
		x.df[t]++
	}
	x.perCat[d.Category]++
	x.docs[d.CaseID] = in
	in.norm = x.norm(d.Terms)
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
		if x.df[t]--; x.df[t] <= 0 {
			delete(x.df, t)
		}
	}
	x.perCat[old.Category]--
	delete(x.docs, id)
}

// Get returns the indexed case id.
func (x *Index) Get(id int64) (Doc, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	d, ok := x.docs[id]
	if !ok {
		return Doc{}, false
	}
	return d.Doc, true
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

// Similar finds the cases most like q.Doc: candidates share an uncommon
// term in the same category, within the window; each is scored by the
// cosine of their TF-IDF vectors, boosted by a shared seller, carrier or tag.
func (x *Index) Similar(q Query) []Match {
	x.mu.RLock()
	defer x.mu.RUnlock()
	p := x.postings[q.Doc.Category]
	if p == nil {
		return nil
	}
	limit := max(1, int(commonShare*float64(x.perCat[q.Doc.Category])))
	seen := map[int64]bool{q.Doc.CaseID: true}
	var cands []*indexed
	for t := range q.Doc.Terms {
		ids := p[t]
		if len(ids) > limit && len(ids) > 50 {
			continue // too common to tell cases apart
		}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			if d := x.docs[id]; x.eligible(q, d) {
				cands = append(cands, d)
			}
		}
	}
	return x.rank(q, cands)
}

// BruteForce scores every case of the category: the baseline Similar is
// measured against, and its reference in tests.
func (x *Index) BruteForce(q Query) []Match {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var cands []*indexed
	for _, d := range x.docs {
		if d.CaseID != q.Doc.CaseID && d.Category == q.Doc.Category && x.eligible(q, d) {
			cands = append(cands, d)
		}
	}
	return x.rank(q, cands)
}

func (x *Index) eligible(q Query, d *indexed) bool {
	if q.OpenOnly && !d.Open {
		return false
	}
	if q.Window > 0 {
		gap := d.CreatedAt.Sub(q.Doc.CreatedAt)
		if gap < -q.Window || gap > q.Window {
			return false
		}
	}
	return true
}

func (x *Index) rank(q Query, cands []*indexed) []Match {
	qn := x.norm(q.Doc.Terms)
	if qn == 0 {
		return nil
	}
	var out []Match
	for _, d := range cands {
		var dot float64
		var shared []string
		for t, n := range q.Doc.Terms {
			if m, ok := d.Terms[t]; ok {
				idf := x.idf(t)
				dot += weight(n) * weight(m) * idf * idf
				shared = append(shared, t)
			}
		}
		if dot == 0 || d.norm == 0 {
			continue
		}
		text := math.Min(1, dot/(qn*x.norm(d.Terms)))
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
		if m.Score < q.MinScore {
			continue
		}
		sort.Slice(shared, func(i, j int) bool { return x.idf(shared[i]) > x.idf(shared[j]) })
		if len(shared) > 5 {
			shared = shared[:5]
		}
		m.Why = append([]string{"similar text: " + strings.Join(shared, ", ")}, m.Why...)
		out = append(out, m)
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
