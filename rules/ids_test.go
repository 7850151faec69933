package rules

import (
	"slices"
	"testing"
)

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

// TestTableCategoriesAndSeverities: every rule of the table has a category
// of Categories and a severity of the ranked three, so that --fail-on,
// the sort and the formats' severity mappings know it.
func TestTableCategoriesAndSeverities(t *testing.T) {
	for _, r := range Table {
		t.Run(r.ID, func(t *testing.T) {
			if !slices.Contains(Categories, r.Category) {
				t.Errorf("category %q is not one of %s", r.Category, categoryList())
			}
			if _, ok := severityRank[r.Severity]; !ok {
				t.Errorf("severity %q is not error, warning or info", r.Severity)
			}
		})
	}
}
