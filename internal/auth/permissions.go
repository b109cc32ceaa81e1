package auth

import "slices"

// Permission is a coarse capability checked at the edge (HTTP handlers,
// CLI). Finer rules (own team, restricted cases) live in the domains.
type Permission string

const (
	PermCaseRead         Permission = "case.read"
	PermCaseCreate       Permission = "case.create"
	PermCaseWrite        Permission = "case.write" // update fields, transitions, assign
	PermCaseComment      Permission = "case.comment"
	PermCaseInternalNote Permission = "case.internal_note"
	PermDeskRead         Permission = "desk.read"
	PermDeskWrite        Permission = "desk.write"
	PermAuditRead        Permission = "audit.read"
	PermUserAdmin        Permission = "user.admin"
	PermEventsAdmin      Permission = "events.admin" // see and replay event deliveries
	PermReportRead       Permission = "report.read"  // the desk's performance metrics
)

// Permissions lists every permission, for clients that show what a user may do.
var Permissions = []Permission{PermCaseRead, PermCaseCreate, PermCaseWrite, PermCaseComment, PermCaseInternalNote,
	PermDeskRead, PermDeskWrite, PermAuditRead, PermUserAdmin, PermEventsAdmin, PermReportRead}

// Short names keep the matrix below readable as a table.
const (
	admin  = RoleAdmin
	lead   = RoleLead
	agent  = RoleAgent
	accmgr = RoleAccountManager
	qa     = RoleQA
	viewer = RoleViewer
)

// rolesWith is the permission matrix: which roles hold each permission.
// The system actor is an admin. Account managers' comments are public
// replies only (no PermCaseInternalNote).
var rolesWith = map[Permission][]Role{
	PermCaseRead:         {admin, lead, agent, accmgr, qa, viewer},
	PermCaseCreate:       {admin, lead, agent, accmgr},
	PermCaseWrite:        {admin, lead, agent},
	PermCaseComment:      {admin, lead, agent, accmgr},
	PermCaseInternalNote: {admin, lead, agent, qa},
	PermDeskRead:         {admin, lead, agent, accmgr, qa, viewer},
	PermDeskWrite:        {admin},
	PermAuditRead:        {admin},
	PermUserAdmin:        {admin},
	PermEventsAdmin:      {admin},
	PermReportRead:       {admin, lead, qa, viewer},
}

// Can reports whether the actor's role grants p. A zero Actor (no role)
// can do nothing.
func (a Actor) Can(p Permission) bool {
	return slices.Contains(rolesWith[p], a.Role)
}
