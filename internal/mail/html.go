package mail

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLText turns an HTML mail body into clean plain text: the text of the
// document without scripts, styles and the head, a line break for each
// block and <br>, "- " before list items, a link's address after its text
// when they differ, and images by their alt text.
func HTMLText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var (
		b        strings.Builder
		skip     int // inside script, style, head, title
		href     []string
		linkText []int
	)
	newline := func(n int) {
		cur := b.String()
		have := len(cur) - len(strings.TrimRight(cur, "\n"))
		if len(cur) == 0 {
			return
		}
		for ; have < n; have++ {
			b.WriteByte('\n')
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return cleanText(b.String(), maxText)
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := strings.Join(strings.Fields(string(z.Text())), " ")
			if t == "" {
				if raw := z.Text(); len(raw) > 0 && b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") && !strings.HasSuffix(b.String(), " ") {
					b.WriteByte(' ')
				}
				continue
			}
			cur := b.String()
			if len(cur) > 0 && !strings.HasSuffix(cur, "\n") && !strings.HasSuffix(cur, " ") && startsSpace(z.Raw()) {
				b.WriteByte(' ')
			}
			b.WriteString(t)
			if endsSpace(z.Raw()) {
				b.WriteByte(' ')
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			start := tt != html.EndTagToken
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case atom.Br:
				trimSpace(&b)
				b.WriteByte('\n')
			case atom.P, atom.Div, atom.Table, atom.Blockquote, atom.Pre, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Hr:
				trimSpace(&b)
				newline(2)
			case atom.Tr, atom.Li:
				trimSpace(&b)
				newline(1)
				if a == atom.Li && start {
					b.WriteString("- ")
				}
			case atom.Td, atom.Th:
				if start && b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
					b.WriteString(" ")
				}
			case atom.Img:
				if alt := strings.TrimSpace(attrs["alt"]); alt != "" && skip == 0 {
					b.WriteString("[" + alt + "]")
				}
			case atom.A:
				if tt == html.StartTagToken {
					href = append(href, attrs["href"])
					linkText = append(linkText, b.Len())
				} else if tt == html.EndTagToken && len(href) > 0 {
					h, at := href[len(href)-1], linkText[len(linkText)-1]
					href, linkText = href[:len(href)-1], linkText[:len(linkText)-1]
					text := strings.TrimSpace(b.String()[min(at, b.Len()):])
					if (strings.HasPrefix(h, "http://") || strings.HasPrefix(h, "https://")) && text != h && text != "" {
						trimSpace(&b)
						b.WriteString(" <" + h + ">")
					}
				}
			}
		}
	}
}

func trimSpace(b *strings.Builder) {
	s := b.String()
	if t := strings.TrimRight(s, " "); len(t) != len(s) {
		b.Reset()
		b.WriteString(t)
	}
}

func startsSpace(raw []byte) bool { return len(raw) > 0 && isSpace(raw[0]) }
func endsSpace(raw []byte) bool   { return len(raw) > 0 && isSpace(raw[len(raw)-1]) }
func isSpace(c byte) bool         { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }
