package yamlx

import "testing"

func TestStrict(t *testing.T) {
	var v struct {
		List []string `yaml:"list"`
	}
	if err := Strict([]byte("list: [a, b]\n"), &v); err != nil || len(v.List) != 2 {
		t.Fatalf("good YAML: %v, %v", v, err)
	}
	if err := Strict([]byte("lists: [a]\n"), &v); err == nil {
		t.Error("unknown field accepted")
	}
	// go-yaml v1.19.2 panics on this one.
	if err := Strict([]byte("list: !00 000\n"), &v); err == nil {
		t.Error("a tagged scalar for a list accepted")
	}
}
