package auth

import "testing"

func TestPermissionMatrix(t *testing.T) {
	perms := []Permission{PermCaseRead, PermCaseCreate, PermCaseWrite, PermCaseComment, PermCaseInternalNote,
		PermDeskRead, PermDeskWrite, PermAuditRead, PermUserAdmin, PermEventsAdmin}
	// Columns follow perms: read create write comment note deskR deskW audit users events.
	want := map[Role]string{
		RoleAdmin:          "1111111111",
		RoleLead:           "1111110000",
		RoleAgent:          "1111110000",
		RoleAccountManager: "1101010000",
		RoleQA:             "1000110000",
		RoleViewer:         "1000010000",
		"":                 "0000000000", // zero Actor: nobody
		"superuser":        "0000000000",
	}
	if len(want) != len(Roles)+2 {
		t.Fatalf("the expected table misses a role: %v", Roles)
	}
	for role, row := range want {
		for i, p := range perms {
			if got := (Actor{UserID: 1, Role: role}).Can(p); got != (row[i] == '1') {
				t.Errorf("%q.Can(%s) = %v, want %v", role, p, got, !got)
			}
		}
	}
	sys := System("scheduler")
	for _, p := range perms {
		if !sys.Can(p) {
			t.Errorf("system actor cannot %s", p)
		}
	}
	if len(rolesWith) != len(perms) {
		t.Errorf("matrix has %d permissions, test covers %d", len(rolesWith), len(perms))
	}
}
