package csvimport

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/intake"
)

// SourceKey is the intake source of imported rows.
const SourceKey = "csv"

// Service imports files.
type Service struct {
	db     *db.DB
	cases  *cases.Service
	intake *intake.Service
}

// New returns the import service.
func New(d *db.DB, cs *cases.Service, in *intake.Service) *Service {
	return &Service{db: d, cases: cs, intake: in}
}

// Options of an import.
type Options struct {
	DryRun  bool // validate only
	Partial bool // import the good rows even when others are bad
	MaxRows int  // 0: DefaultMaxRows
}

// Report is what an import found and did.
type Report struct {
	Rows       int        `json:"rows"`       // data rows read
	Valid      int        `json:"valid"`      // rows that passed validation
	Created    int        `json:"created"`    // cases opened
	Duplicates int        `json:"duplicates"` // rows whose external_id was imported before
	Imported   bool       `json:"imported"`   // whether anything was written
	DryRun     bool       `json:"dry_run"`
	Errors     []RowError `json:"errors"` // the bad rows, by line
	Cases      []Imported `json:"cases"`  // what each imported row became
}

// Imported is one row's case.
type Imported struct {
	Line    int            `json:"line"`
	Case    string         `json:"case"`
	Outcome intake.Outcome `json:"outcome"`
}

// Import reads r, validates every row with the case rules of the API,
// and — unless opt.DryRun, and only when every row is good or opt.Partial
// — submits the rows to the intake: all in one transaction by default
// (nothing is written when one fails), each on its own with Partial. Only
// admins import. A file that cannot be read at all is an *apperr.Invalid
// naming the line.
func (s *Service) Import(ctx context.Context, actor auth.Actor, r io.Reader, opt Options) (*Report, error) {
	if err := CanImport(actor); err != nil {
		return nil, err
	}
	rep := &Report{DryRun: opt.DryRun, Errors: []RowError{}, Cases: []Imported{}}
	rd, err := NewReader(r, opt.MaxRows)
	if err != nil {
		return nil, fileInvalid(err)
	}
	var good []*Row
	for {
		row, errs, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fileInvalid(err)
		}
		rep.Rows++
		if len(errs) == 0 {
			errs, err = s.check(ctx, actor, row)
			if err != nil {
				return nil, err
			}
		}
		if len(errs) > 0 {
			rep.Errors = append(rep.Errors, errs...)
			continue
		}
		good = append(good, row)
	}
	rep.Valid = len(good)
	if opt.DryRun || len(good) == 0 || (len(rep.Errors) > 0 && !opt.Partial) {
		return rep, nil
	}
	if opt.Partial {
		for _, row := range good {
			res, err := s.submit(ctx, actor, row)
			if errs, ok := FromInvalid(row.Line, err); ok {
				rep.Errors = append(rep.Errors, errs...)
				continue
			}
			if err != nil {
				return nil, err
			}
			rep.add(row, res)
		}
		return rep, nil
	}
	var done []Imported
	var created, dups int
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		done, created, dups = nil, 0, 0 // a re-run starts afresh
		jctx := db.Join(ctx, tx)        // every row's write joins this one transaction
		for _, row := range good {
			res, err := s.submit(jctx, actor, row)
			if err != nil {
				return &rowFailed{row.Line, err}
			}
			done = append(done, Imported{row.Line, res.Case.Number, res.Outcome})
			if res.Outcome == intake.OutcomeDuplicate {
				dups++
			} else {
				created++
			}
		}
		return nil
	})
	var rf *rowFailed
	if errors.As(err, &rf) {
		if errs, ok := FromInvalid(rf.line, rf.err); ok { // a conflict found only while writing
			rep.Errors = append(rep.Errors, errs...)
			rep.Valid--
			return rep, nil
		}
		return nil, rf.err
	}
	if err != nil {
		return nil, err
	}
	rep.Cases, rep.Created, rep.Duplicates, rep.Imported = done, created, dups, true
	return rep, nil
}

// CanImport says whether actor may import cases: admins only.
func CanImport(actor auth.Actor) error {
	if actor.Role != auth.RoleAdmin {
		return &apperr.Forbidden{Detail: "only admins import cases"}
	}
	return nil
}

type rowFailed struct {
	line int
	err  error
}

func (e *rowFailed) Error() string { return e.err.Error() }
func (e *rowFailed) Unwrap() error { return e.err }

func (rep *Report) add(row *Row, res *intake.Result) {
	rep.Cases = append(rep.Cases, Imported{row.Line, res.Case.Number, res.Outcome})
	rep.Imported = true
	if res.Outcome == intake.OutcomeDuplicate {
		rep.Duplicates++
	} else {
		rep.Created++
	}
}

// check validates a row as the API would a case: nothing is written.
func (s *Service) check(ctx context.Context, actor auth.Actor, row *Row) ([]RowError, error) {
	in := row.Input
	_, err := s.cases.Prepare(ctx, actor, in)
	if errs, ok := FromInvalid(row.Line, err); ok {
		return errs, nil
	}
	return nil, err
}

func (s *Service) submit(ctx context.Context, actor auth.Actor, row *Row) (*intake.Result, error) {
	return s.intake.Submit(ctx, actor, intake.Submission{
		Source:        intake.Source{Channel: row.Input.Channel, Key: SourceKey, ExternalID: row.ExternalID},
		Case:          row.Input,
		RequireFields: true,
	})
}

// fileInvalid reports a file that cannot be read as a 422 naming its line.
func fileInvalid(err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		return &apperr.Invalid{Subject: "CSV file", Errors: []apperr.FieldError{{Field: fe.Field, Message: fe.String()}}}
	}
	return err
}

// Problems are a report's row errors as field errors ("line 3: category").
func (rep *Report) Problems() []apperr.FieldError {
	out := make([]apperr.FieldError, len(rep.Errors))
	for i, e := range rep.Errors {
		field := fmt.Sprintf("line %d", e.Line)
		if e.Field != "" {
			field += ": " + e.Field
		}
		out[i] = apperr.FieldError{Field: field, Message: e.Message}
	}
	return out
}
