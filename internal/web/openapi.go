package web

import _ "embed"

// openAPI is the OpenAPI 3.1 description of /api/v1, kept true by
// TestOpenAPIMatchesRoutes.
//
//go:embed openapi.json
var openAPI []byte
