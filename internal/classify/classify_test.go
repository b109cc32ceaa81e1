package classify_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/classify"
)

var small = []classify.Example{
	{"My parcel never arrived", "delivery"},
	{"Where is my package? Tracking has not moved in a week", "delivery"},
	{"The courier left the box at the wrong address", "delivery"},
	{"delivery is late again", "delivery"},
	{"I was charged twice for one order", "billing"},
	{"Refund has not reached my card", "billing"},
	{"Why is there an extra fee on my invoice?", "billing"},
	{"payment taken but order cancelled, I want my money back", "billing"},
	{"The charger caught fire and burned the table", "safety"},
	{"Smoke came out of the device while charging", "safety"},
	{"My child got an electric shock from the toy", "safety"},
	{"the heater exploded", "safety"},
}

func TestLearnsASmallLabelledSet(t *testing.T) {
	m, err := classify.Train(small, classify.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Evaluate(small); got.Accuracy != 1 {
		t.Errorf("training set accuracy %.2f, want 1", got.Accuracy)
	}
	for text, want := range map[string]string{
		"my package has not arrived yet":        "delivery",
		"I was charged a fee twice":             "billing",
		"the charger started to smoke and burn": "safety",
	} {
		s := m.Suggest(text)
		if s.Category != want {
			t.Errorf("Suggest(%q) = %s, want %s", text, s.Category, want)
		}
		if s.Confidence <= 1.0/3 || s.Confidence > 1 {
			t.Errorf("Suggest(%q) confidence %.3f, want above chance and at most 1", text, s.Confidence)
		}
	}
	var sum float64
	for _, p := range m.Probabilities("refund my order") {
		sum += p
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("probabilities sum to %v", sum)
	}
}

func TestTrainingIsDeterministic(t *testing.T) {
	a, _ := classify.Train(small, classify.DefaultOptions())
	b, _ := classify.Train(small, classify.DefaultOptions())
	for _, text := range []string{"parcel late", "double charge", "fire"} {
		if pa, pb := a.Probabilities(text), b.Probabilities(text); !reflect.DeepEqual(pa, pb) {
			t.Errorf("%q: two trainings differ: %v vs %v", text, pa, pb)
		}
	}
}

func TestReadCSV(t *testing.T) {
	ex, err := classify.ReadCSV(strings.NewReader("text,category\n\"Hello, there\",greeting\nbye,farewell\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 2 || ex[0].Text != "Hello, there" || ex[1].Category != "farewell" {
		t.Errorf("got %+v", ex)
	}
	if _, err := classify.ReadCSV(strings.NewReader("body,label\nx,y\n")); err == nil {
		t.Error("a file without text and category columns must be refused")
	}
}

func TestScore(t *testing.T) {
	ex := []classify.Example{{"", "a"}, {"", "a"}, {"", "b"}, {"", "c"}}
	m := classify.Score(ex, []string{"a", "b", "b", "c"})
	if m.Accuracy != 0.75 {
		t.Errorf("accuracy %v", m.Accuracy)
	}
	// F1: a = 2/3, b = 2/3, c = 1.
	if want := (2.0/3 + 2.0/3 + 1) / 3; m.MacroF1 < want-1e-9 || m.MacroF1 > want+1e-9 {
		t.Errorf("macro F1 %v, want %v", m.MacroF1, want)
	}
}

// On BANKING77, a held-out fifth of the training file (stratified) is
// classified with at least 0.85 accuracy, and confidences are calibrated.
func TestBanking77HeldOut(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "banking77", "train.csv")
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("FLARE_TEST_REQUIRE_SHARED") == "1" {
			t.Fatalf("shared BANKING77 data required: %v", err)
		}
		t.Skipf("shared BANKING77 data absent (%v)", err)
	}
	defer f.Close()
	ex, err := classify.ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	folds := classify.Folds(ex, 5, 7)
	var train []classify.Example
	for _, fo := range folds[1:] {
		train = append(train, fo...)
	}
	start := time.Now()
	m, err := classify.Train(train, classify.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	met := m.Evaluate(folds[0])
	ece := m.CalibrationError(folds[0])
	t.Logf("BANKING77 held-out: accuracy %.4f macro-F1 %.4f ECE %.4f (%d test, trained in %v)", met.Accuracy, met.MacroF1, ece, met.N, took)
	if met.Accuracy < 0.85 {
		t.Errorf("accuracy %.4f, want at least 0.85", met.Accuracy)
	}
	if ece > 0.05 {
		t.Errorf("expected calibration error %.4f, want at most 0.05", ece)
	}
}
