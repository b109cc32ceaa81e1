package desk

import _ "embed"

// ExampleYAML is a small, realistic desk document (3 markets, 4 teams,
// 8 categories with custom fields, 5 users including an admin, 6 sellers,
// routing's priority weights and rules). Parse it with a Schema that has
// every capability's sections (Schema.Example).
//
//go:embed example.yaml
var ExampleYAML []byte
