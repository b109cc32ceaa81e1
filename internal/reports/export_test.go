package reports

// SetFactCacheRows bounds s's fact cache to n rows (tests of eviction).
func SetFactCacheRows(s *Service, n int) { s.facts.maxRows = n }
