package cases

import (
	"bytes"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Markdown renders comment Markdown to HTML that is safe to show: goldmark
// renders, bluemonday's user-content policy strips scripts, handlers and
// dangerous URLs.
type Markdown struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// NewMarkdown builds a renderer.
func NewMarkdown() *Markdown {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return &Markdown{md: goldmark.New(goldmark.WithExtensions(extension.GFM)), policy: p}
}

// HTML renders src.
func (m *Markdown) HTML(src string) string {
	var b bytes.Buffer
	if err := m.md.Convert([]byte(src), &b); err != nil {
		return m.policy.Sanitize(src)
	}
	return m.policy.Sanitize(b.String())
}
