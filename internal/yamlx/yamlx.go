// Package yamlx decodes the YAML files people write (content, menu,
// settings) strictly and without panics.
package yamlx

import (
	"fmt"

	"github.com/goccy/go-yaml"
)

// Strict decodes data into v, refusing unknown fields. go-yaml v1.19.2
// panics on some malformed input (a tagged scalar where a list is
// expected, "!x 0"): the panic becomes an error.
func Strict(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML the parser cannot read: %v", r)
		}
	}()
	return yaml.UnmarshalWithOptions(data, v, yaml.Strict())
}
