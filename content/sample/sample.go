// Package sample embeds edubot's built-in content set: notices, FAQs, rules
// and synonyms of the model bureau 揭阳教育 in the interchange format
// (../../docs/FORMAT.md). serve uses it when no content folder is
// configured, so a fresh checkout answers real questions.
package sample

import (
	"embed"
	"io/fs"
)

//go:embed set
var files embed.FS

// FS returns the sample set, rooted at the set's folder (notices/, faq/,
// rules.yaml, synonyms.txt).
func FS() fs.FS {
	sub, err := fs.Sub(files, "set")
	if err != nil {
		// fs.Sub fails only for an invalid path; "set" is a constant.
		panic("sample: " + err.Error())
	}
	return sub
}
