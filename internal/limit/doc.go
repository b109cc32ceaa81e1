// Package limit bounds what callers may ask of Flare: requests per key over
// time (Keyed, token buckets from golang.org/x/time/rate) and expensive work
// running at once (Gate). Both keep their memory bounded whatever the load.
package limit
