package app

import (
	"os"
	"runtime/debug"
	"testing"
)

// Without GOGC and GOMEMLIMIT, Flare collects at five times the live heap
// under a 1 GiB soft limit; with them set, it leaves the runtime as the
// environment configured it.
func TestRuntimeDefaults(t *testing.T) {
	gc, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) })
	for _, k := range []string{"GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(k); ok {
			t.Cleanup(func() { os.Setenv(k, v) })
			os.Unsetenv(k)
		}
	}
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(1 << 62)
	if g, l := SetRuntimeDefaults(); g != defaultGCPercent || l != defaultMemoryLimit {
		t.Fatalf("defaults %d, %d", g, l)
	}
	debug.SetGCPercent(150)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "2GiB")
	debug.SetMemoryLimit(2 << 30)
	if g, l := SetRuntimeDefaults(); g != 150 || l != 2<<30 {
		t.Fatalf("with the environment set: %d, %d", g, l)
	}
}
