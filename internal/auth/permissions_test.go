package auth

import "testing"

func TestPermissionMatrix(t *testing.T) {
	perms := []Permission{PermCaseRead, PermCaseCreate, PermCaseWrite, PermCaseComment, PermCaseInternalNote,
		PermDeskRead, PermDeskWrite, PermAuditRead, PermUserAdmin}
	// Columns follow perms: read create write comment note deskR deskW audit users.
	want := map[Role]string{
		RoleAdmin:          "111111111",
		RoleLead:           "111111000",
		RoleAgent:          "111111000",
		RoleAccountManager: "110101000",
		RoleQA:             "100011000",
		RoleViewer:         "100001000",
		"":                 "000000000", // zero Actor: nobody
		"superuser":        "000000000",
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
