package cases

import (
	"io"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"
)

// FuzzMarkdown checks the comment renderer: it never panics, and what it
// renders is sanitised — no script, style, iframe, object, embed or form
// elements, no event-handler (on*) or style attributes, and no URL that runs
// code (javascript:, vbscript:, data:), however the source spells it.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{
		"**bold** _it_ `code` [link](https://example.com) ![img](https://example.com/x.png)",
		"<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "<img src=x onerror=alert(1)>",
		"[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](java&#x09;script:alert(1))", "[x](&#106;avascript:alert(1))",
		"[x]( javascript:alert(1) )", "<javascript:alert(1)>", "![x](javascript:alert(1))", "[x][r]\n\n[r]: javascript:alert(1)",
		"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "[x](vbscript:msgbox(1))",
		`<a href="javascript:alert(1)">x</a>`, `<div style="background:url(javascript:alert(1))">x</div>`,
		"<iframe src=https://evil.example></iframe>", "<svg onload=alert(1)>", "<details open ontoggle=alert(1)>",
		"| a | b |\n|---|---|\n| <script>x</script> | [y](javascript:z) |", "- [ ] task\n- [x] done", "~~gone~~ https://auto.example",
		"```html\n<script>alert(1)</script>\n```", "\x00\x1b[31m\u202e", "<a href=\"\x00javascript:alert(1)\">x</a>",
		"[x](<javascript:alert(1)>)", "<<script>script>alert(1)<</script>/script>", "<!-- <script>x</script> -->",
	} {
		f.Add(s)
	}
	md := NewMarkdown()
	f.Fuzz(func(t *testing.T, src string) {
		out := md.HTML(src)
		z := html.NewTokenizer(strings.NewReader(out))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				if z.Err() != io.EOF {
					t.Fatalf("tokenizer: %v", z.Err())
				}
				return
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken && tt != html.EndTagToken {
				continue
			}
			tok := z.Token()
			switch tok.Data {
			case "script", "style", "iframe", "object", "embed", "form", "svg", "math", "base", "meta", "link":
				t.Fatalf("%q renders a <%s>: %s", src, tok.Data, out)
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") || key == "style" || key == "srcdoc" || key == "formaction" {
					t.Fatalf("%q renders attribute %s: %s", src, a.Key, out)
				}
				if (key == "href" || key == "src" || key == "action" || key == "cite" || key == "poster") && runsCode(a.Val) {
					t.Fatalf("%q renders %s=%q: %s", src, a.Key, a.Val, out)
				}
			}
		}
	})
}

// runsCode reports whether a URL (an attribute value, entities decoded)
// has a scheme that runs code, as a browser reads it: control characters
// and spaces dropped, case folded.
func runsCode(u string) bool {
	u = strings.Map(func(r rune) rune {
		if r <= ' ' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, u)
	for _, scheme := range []string{"javascript:", "vbscript:", "data:"} {
		if strings.HasPrefix(u, scheme) {
			return true
		}
	}
	return false
}
