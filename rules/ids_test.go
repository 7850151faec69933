package rules

import "testing"

// TestIDConstantsNameTableRules: a constant that names no rule of the
// table would switch its special case off without a word.
func TestIDConstantsNameTableRules(t *testing.T) {
	ids := []string{IDInstallAfterCopy, IDContextJunk, IDRunAsRoot, IDUserUndefined, IDJDK, IDBuildFiles,
		IDSourceCode, IDPackageDB, IDRewrittenUnchanged, IDMetadataOnly, IDRemovedLater, IDSecretEnv, IDOverwritten}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			for _, r := range Table {
				if r.ID == id {
					return
				}
			}
			t.Errorf("no rule %q in the table", id)
		})
	}
}
