package app

import (
	"os"
	"runtime/debug"
)

// Runtime defaults for a Flare process, unless GOGC or GOMEMLIMIT say
// otherwise. Go's default collects garbage each time the heap doubles;
// Flare's live heap is small (tens of MB, up to a few hundred with the
// report fact cache) while the write path allocates fast, so at intake
// rates collection took a tenth of the CPU. Collecting at five times the
// live heap instead roughly halves that; the soft memory limit collects
// more often again before the heap grows past it.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 1 << 30 // 1 GiB
)

// SetRuntimeDefaults applies Flare's garbage-collector defaults where the
// environment sets none, and reports the percent and limit in force.
// `flare` calls it at start; the intake benchmarks too, to measure what
// it serves with.
func SetRuntimeDefaults() (gcPercent int, memoryLimit int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	gcPercent = debug.SetGCPercent(-1)
	debug.SetGCPercent(gcPercent)
	return gcPercent, debug.SetMemoryLimit(-1)
}
