package desk

import _ "embed"

// ExampleYAML is a small, realistic desk document (3 markets, 4 teams,
// 8 categories with custom fields, 5 users including an admin, 6 sellers).
//
//go:embed example.yaml
var ExampleYAML []byte

// Example parses ExampleYAML; each call returns a new Config.
func Example() (*Config, error) { return Parse(ExampleYAML) }
