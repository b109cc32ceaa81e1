// Package routing benchmarks internal/routing: scoring a case and running
// 200 realistic routing rules on it (about 30% with keywords and phrases in
// six languages, over a title and a 1–2 KB description), against a naive
// baseline measured in the same run — lower-casing the text and calling
// strings.Contains once per keyword of the rule set. Run it with
//
//	go test ./bench/routing -bench . -run '^$' -cpu 1
//
// Target: scoring and routing one case in under 50 µs on one core.
package routing
