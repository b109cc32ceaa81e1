// Package csvimport imports cases from CSV (flare import cases FILE, the
// admin page /admin/import and POST /api/v1/admin/import/cases): a header
// row naming case fields, every row validated with the same rules as the
// API before anything is written, each bad row reported with its line
// number, and all or nothing unless partial import is asked for. Rows go
// through the intake (source "csv"), de-duplicated by an external_id
// column.
package csvimport

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/input"
)

// Columns are the header names a file may use; custom fields are
// "field.<name>".
var Columns = []string{"title", "description", "category", "market", "channel", "language", "seller_id",
	"requester_name", "requester_email", "tags", "high_risk", "external_id"}

// Limits on a file.
const (
	DefaultMaxRows = 10_000     // rows a file may hold (without the header)
	MaxFieldBytes  = 128 << 10  // one cell
	DefaultChannel = "internal" // the channel of rows without one
	tagSeparator   = ";"        // tags: "a;b"
	bomUTF8        = "\ufeff"   // spreadsheets start CSV files with one
	fieldPrefix    = "field."   // custom field columns
	maxColumns     = 64 + 12    // the case's columns and custom fields
)

// Row is one row of a file made into a case's input.
type Row struct {
	Line       int // the line the row starts on (the header is line 1)
	Input      cases.CreateInput
	ExternalID string
}

// RowError is what is wrong with one row (or, with Line 1, the header).
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e RowError) String() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// FileError is a file that cannot be read as a case import at all: no
// header, an unknown column, a malformed line, too many rows.
type FileError struct{ RowError }

func (e *FileError) Error() string { return e.String() }

// Reader reads a file's rows one at a time (a large file is never held
// whole).
type Reader struct {
	r       *csv.Reader
	columns []string
	maxRows int
	rows    int
}

// NewReader reads the header of r. maxRows 0 is DefaultMaxRows.
func NewReader(r io.Reader, maxRows int) (*Reader, error) {
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0 // every row as long as the header
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &FileError{RowError{1, "", "the file is empty; the first line names the columns (title, category, market, …)"}}
	}
	if err != nil {
		return nil, readError(err)
	}
	cols := make([]string, len(head))
	seen := map[string]bool{}
	for i, h := range head {
		if i == 0 {
			h = strings.TrimPrefix(h, bomUTF8)
		}
		h = strings.ToLower(strings.TrimSpace(h))
		name, isField := strings.CutPrefix(h, fieldPrefix)
		switch {
		case isField && (name == "" || input.Key.Problem(name) != ""):
			return nil, &FileError{RowError{1, h, "names no custom field"}}
		case !isField && !slices.Contains(Columns, h):
			return nil, &FileError{RowError{1, input.Printable(h), "is not a column; use " + strings.Join(Columns, ", ") + " or field.<name>"}}
		case seen[h]:
			return nil, &FileError{RowError{1, h, "is named twice"}}
		}
		seen[h] = true
		cols[i] = h
	}
	if len(cols) > maxColumns {
		return nil, &FileError{RowError{1, "", fmt.Sprintf("at most %d columns", maxColumns)}}
	}
	if !seen["title"] {
		return nil, &FileError{RowError{1, "title", "the file needs a title column"}}
	}
	return &Reader{r: cr, columns: cols, maxRows: maxRows}, nil
}

// Next reads the next row: io.EOF after the last. A row whose cells break
// the rules gives its RowErrors (the file goes on); a file that cannot be
// read on gives a *FileError.
func (r *Reader) Next() (*Row, []RowError, error) {
	rec, err := r.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, io.EOF
		}
		return nil, nil, readError(err)
	}
	line, _ := r.r.FieldPos(0)
	r.rows++
	if r.rows > r.maxRows {
		return nil, nil, &FileError{RowError{line, "", fmt.Sprintf("the file has more than %d rows; split it", r.maxRows)}}
	}
	row := &Row{Line: line, Input: cases.CreateInput{Channel: DefaultChannel}}
	var errs []RowError
	bad := func(field, format string, args ...any) {
		errs = append(errs, RowError{line, field, fmt.Sprintf(format, args...)})
	}
	in := &row.Input
	for i, cell := range rec {
		col := r.columns[i]
		if len(cell) > MaxFieldBytes {
			bad(col, "is longer than %d bytes", MaxFieldBytes)
			continue
		}
		if msg := input.Gate(cell); msg != "" {
			bad(col, "%s", msg)
			continue
		}
		cell = strings.TrimSpace(cell)
		if cell == "" {
			continue
		}
		switch col {
		case "title":
			in.Title = cell
		case "description":
			in.Description = strings.ReplaceAll(cell, "\r\n", "\n")
		case "category":
			in.Category = cell
		case "market":
			in.Market = cell
		case "channel":
			in.Channel = cases.Channel(strings.ToLower(cell))
		case "language":
			in.Language = cell
		case "seller_id":
			in.SellerID = cell
		case "requester_name", "requester_email":
			if in.Requester == nil {
				in.Requester = &cases.Requester{}
			}
			if col == "requester_name" {
				in.Requester.Name = cell
			} else {
				in.Requester.Email = cell
			}
		case "tags":
			for _, t := range strings.Split(cell, tagSeparator) {
				if t = strings.TrimSpace(t); t != "" {
					in.Tags = append(in.Tags, t)
				}
			}
		case "high_risk":
			switch strings.ToLower(cell) {
			case "true", "yes", "1", "y":
				in.HighRisk = true
			case "false", "no", "0", "n":
			default:
				bad(col, "%q is not true or false", input.Printable(cell))
			}
		case "external_id":
			if msg := input.Key.Problem(cell); msg != "" || len([]rune(cell)) > 255 {
				bad(col, "must be one line of at most 255 characters")
			}
			row.ExternalID = cell
		default:
			if in.Fields == nil {
				in.Fields = map[string]any{}
			}
			in.Fields[strings.TrimPrefix(col, fieldPrefix)] = cellValue(cell)
		}
	}
	return row, errs, nil
}

// cellValue is a custom field's value: JSON for a money amount or a list
// ({"amount": 12.5, "currency": "EUR"}, ["a", "b"]), else the text (the
// category's field type reads numbers and dates from it).
func cellValue(cell string) any {
	if cell[0] == '{' || cell[0] == '[' {
		var v any
		if json.Unmarshal([]byte(cell), &v) == nil {
			return v
		}
	}
	return cell
}

func readError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = "has a different number of cells than the header"
		}
		return &FileError{RowError{pe.StartLine, "", "is not well-formed CSV: " + msg}}
	}
	return fmt.Errorf("read csv: %w", err)
}

// FromInvalid turns a case's validation errors into the row's.
func FromInvalid(line int, err error) ([]RowError, bool) {
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		return nil, false
	}
	out := make([]RowError, len(inv.Errors))
	for i, e := range inv.Errors {
		out[i] = RowError{line, columnOf(e.Field), e.Message}
	}
	return out, true
}

// columnOf names the column a case field's error is about.
func columnOf(field string) string {
	switch {
	case strings.HasPrefix(field, "fields."):
		return fieldPrefix + strings.TrimPrefix(field, "fields.")
	case strings.HasPrefix(field, "requester."):
		return "requester_" + strings.TrimPrefix(field, "requester.")
	case strings.HasPrefix(field, "tags"):
		return "tags"
	}
	return field
}
