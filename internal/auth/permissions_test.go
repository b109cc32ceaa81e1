package auth

import "testing"

func TestPermissionMatrix(t *testing.T) {
	perms := []Permission{PermCaseRead, PermCaseCreate, PermCaseWrite, PermCaseComment, PermCaseInternalNote,
		PermDeskRead, PermDeskWrite, PermAuditRead, PermUserAdmin, PermEventsAdmin, PermReportRead}
	// Columns follow perms: read create write comment note deskR deskW audit users events reports.
	want := map[Role]string{
		RoleAdmin:          "11111111111",
		RoleLead:           "11111100001",
		RoleAgent:          "11111100000",
		RoleAccountManager: "11010100000",
		RoleQA:             "10001100001",
		RoleViewer:         "10000100001",
		"":                 "00000000000", // zero Actor: nobody
		"superuser":        "00000000000",
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
