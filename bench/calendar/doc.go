// Package calendar benchmarks the business-hours calendars of internal/sla:
// Add and Between on a market calendar against plain time arithmetic
// measured in the same run. Run it with
//
//	go test ./bench/calendar -bench . -run '^$' -cpu 1 -benchtime 1s
//
// and see RESULTS.md.
package calendar
