//go:build race

package web

// raceDetector is true when the tests run under -race (see newBrowser).
const raceDetector = true
