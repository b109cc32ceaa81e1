package reports

// SetFactCacheRows bounds s's fact cache to n rows (tests of eviction).
func SetFactCacheRows(s *Service, n int) { s.facts.maxRows = n }

// FactBucketsRead is how many buckets s's fact cache has read from the store.
func FactBucketsRead(s *Service) int64 { return s.facts.read.Load() }
