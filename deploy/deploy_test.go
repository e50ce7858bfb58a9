// Package deploy holds the deployment files (compose.yaml, k8s/, nginx/);
// this test checks them offline: every YAML file parses, the kinds and
// their essentials are there, ports and probes match edubot's defaults,
// every EDUBOT_* variable is one edubot reads, and the ConfigMap's config
// loads and validates. `docker compose config` runs too when the CLI has
// the compose plugin.
package deploy

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/gdjysjyj/edubot/internal/config"
)

type doc = map[string]any

func load(t *testing.T, path string) doc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := yaml.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

// get walks a path of keys and indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// envNames is every variable edubot reads: EDUBOT_ + the config's env tags,
// the _FILE variants of secrets, EDUBOT_CONFIG and Go's GOMEMLIMIT.
func envNames() map[string]bool {
	names := map[string]bool{"EDUBOT_CONFIG": true, "GOMEMLIMIT": true, "TZ": true}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if p, ok := f.Tag.Lookup("envPrefix"); ok && f.Type.Kind() == reflect.Struct {
				walk(f.Type, prefix+p)
				continue
			}
			env := strings.Split(f.Tag.Get("env"), ",")
			if env[0] == "" || env[0] == "-" {
				continue
			}
			names[prefix+env[0]] = true
			if strings.Contains(f.Tag.Get("env"), "unset") { // secrets may come from files
				names[prefix+env[0]+"_FILE"] = true
			}
		}
	}
	walk(reflect.TypeOf(config.Config{}), "EDUBOT_")
	return names
}

func defaultPort(t *testing.T) string {
	_, port, err := net.SplitHostPort(config.Default().Addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func TestEveryYAMLFileParses(t *testing.T) {
	n := 0
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || (!strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml")) {
			return err
		}
		n++
		load(t, path)
		return nil
	})
	if err != nil || n < 7 {
		t.Fatalf("walked %d YAML files: %v", n, err)
	}
}

func TestCompose(t *testing.T) {
	c := load(t, "compose.yaml")
	names := envNames()
	services, _ := c["services"].(map[string]any)
	var replicas []string
	for name, s := range services {
		if str(get(s, "image")) != "edubot:latest" {
			continue
		}
		replicas = append(replicas, name)
		env, _ := get(s, "environment").(map[string]any)
		for k := range env {
			if !names[k] {
				t.Errorf("%s: %s is not a variable edubot reads", name, k)
			}
		}
		if v := str(env["EDUBOT_ADDR"]); !strings.HasSuffix(v, ":"+defaultPort(t)) {
			t.Errorf("%s listens on %q, want port %s", name, v, defaultPort(t))
		}
		for k, v := range env {
			if strings.Contains(k, "SECRET") || strings.Contains(k, "TOKEN") || strings.Contains(k, "AES_KEY") || strings.Contains(k, "SALT") {
				if !strings.HasSuffix(k, "_FILE") {
					t.Errorf("%s: secret %s=%v given as a value, want a file", name, k, v)
				}
			}
		}
		if get(s, "deploy", "resources", "limits", "memory") == nil || get(s, "healthcheck") == nil {
			t.Errorf("%s: no memory limit or health check", name)
		}
	}
	if len(replicas) < 2 {
		t.Errorf("edubot replicas: %v, want two", replicas)
	}
	redisCmd := strings.Join(anyStrings(get(services, "redis", "command")), " ")
	if !strings.Contains(redisCmd, "--appendonly yes") || !strings.Contains(redisCmd, "noeviction") {
		t.Errorf("redis command %q: want AOF on and noeviction", redisCmd)
	}
	ports := strings.Join(anyStrings(get(services, "proxy", "ports")), " ")
	if !strings.Contains(ports, "443:443") {
		t.Errorf("proxy ports %q: want 443", ports)
	}
	conf, err := os.ReadFile("nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range replicas {
		if !bytes.Contains(conf, []byte("server "+r+":"+defaultPort(t))) {
			t.Errorf("nginx.conf does not balance to %s:%s", r, defaultPort(t))
		}
	}
	for _, want := range []string{"listen 443 ssl", "ssl_certificate ", "location /wechat", "proxy_pass http://edubot"} {
		if !bytes.Contains(conf, []byte(want)) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}
	for _, s := range anyList(get(services, "proxy", "volumes")) {
		src := strings.SplitN(str(s), ":", 2)[0]
		if strings.HasSuffix(src, ".conf") {
			if _, err := os.Stat(src); err != nil {
				t.Errorf("proxy mounts %s: %v", src, err)
			}
		}
	}
}

// TestComposeConfig runs `docker compose config` when the compose plugin
// is installed (it needs no engine); the Go checks above always run.
func TestComposeConfig(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Log("docker CLI absent: only the Go checks validate compose.yaml")
		return
	}
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Log("docker has no compose plugin: only the Go checks validate compose.yaml")
		return
	}
	dir := t.TempDir()
	for _, f := range []string{"wechat_token", "wechat_aes_key", "wechat_app_secret", "admin_tokens", "stats_salt"} {
		_ = os.MkdirAll(filepath.Join(dir, "secrets"), 0o700)
		_ = os.WriteFile(filepath.Join(dir, "secrets", f), []byte("x"), 0o600)
	}
	out, err := exec.Command("docker", "compose", "-f", "compose.yaml", "--project-directory", ".", "config", "--quiet").CombinedOutput()
	if err != nil {
		t.Errorf("docker compose config: %v\n%s", err, out)
	}
}

func TestKubernetes(t *testing.T) {
	byKind := map[string]doc{}
	files, _ := filepath.Glob("k8s/*.yaml")
	for _, f := range files {
		d := load(t, f)
		kind := str(d["kind"])
		if kind == "" || str(d["apiVersion"]) == "" || str(get(d, "metadata", "name")) == "" {
			t.Errorf("%s: kind, apiVersion and metadata.name are required", f)
		}
		byKind[kind] = d
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget", "HorizontalPodAutoscaler"} {
		if byKind[k] == nil {
			t.Errorf("no %s in deploy/k8s", k)
		}
	}
	dep := byKind["Deployment"]
	if dep == nil {
		return
	}
	labels, _ := get(dep, "spec", "template", "metadata", "labels").(map[string]any)
	matches := func(sel any) bool {
		m, _ := sel.(map[string]any)
		if len(m) == 0 {
			return false
		}
		for k, v := range m {
			if labels[k] != v {
				return false
			}
		}
		return true
	}
	if !matches(get(dep, "spec", "selector", "matchLabels")) {
		t.Error("the Deployment's selector does not match its pods")
	}
	if r, _ := get(dep, "spec", "replicas").(uint64); r < 2 {
		t.Errorf("replicas = %v, want at least 2", get(dep, "spec", "replicas"))
	}
	c := get(dep, "spec", "template", "spec", "containers", 0)
	if img := str(get(c, "image")); img == "" || strings.HasSuffix(img, ":latest") || !strings.Contains(img, ":") {
		t.Errorf("image %q: want a pinned tag", img)
	}
	port := get(c, "ports", 0, "containerPort")
	if p, _ := port.(uint64); p == 0 || defaultPort(t) != itoa(p) {
		t.Errorf("containerPort %v, want edubot's port %s", port, defaultPort(t))
	}
	portName := str(get(c, "ports", 0, "name"))
	for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
		if got := str(get(c, probe, "httpGet", "path")); got != path {
			t.Errorf("%s path %q, want %s", probe, got, path)
		}
		if p := get(c, probe, "httpGet", "port"); p != portName && itoa(p) != defaultPort(t) {
			t.Errorf("%s port %v", probe, p)
		}
	}
	for _, r := range []string{"requests", "limits"} {
		for _, res := range []string{"cpu", "memory"} {
			if get(c, "resources", r, res) == nil {
				t.Errorf("resources.%s.%s missing", r, res)
			}
		}
	}
	names := envNames()
	mounts := map[string]bool{}
	for _, m := range anyList(get(c, "volumeMounts")) {
		mounts[str(get(m, "mountPath"))] = true
	}
	var configPath string
	for _, e := range anyList(get(c, "env")) {
		name, value := str(get(e, "name")), str(get(e, "value"))
		if !names[name] {
			t.Errorf("env %s is not a variable edubot reads", name)
		}
		if name == "EDUBOT_CONFIG" {
			configPath = value
		}
		if strings.HasSuffix(name, "_FILE") && !mounts[filepath.Dir(value)] {
			t.Errorf("env %s=%s: no volume mounted at %s", name, value, filepath.Dir(value))
		}
	}
	if limit := str(get(c, "resources", "limits", "memory")); !gomemlimitBelow(t, c, limit) {
		t.Errorf("GOMEMLIMIT must be set below the memory limit %s", limit)
	}
	if !mounts[configPath] {
		t.Errorf("EDUBOT_CONFIG=%s is not mounted", configPath)
	}

	// The ConfigMap's config loads and validates with edubot's own loader.
	cfgText := str(get(byKind["ConfigMap"], "data", "config.yaml"))
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() { // the test's own environment must not fill it in
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "EDUBOT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("the ConfigMap's config.yaml: %v", err)
	}
	if _, p, _ := net.SplitHostPort(cfg.Addr); p != defaultPort(t) {
		t.Errorf("config addr %s, container port %s", cfg.Addr, defaultPort(t))
	}
	if len(cfg.Redis.Addrs) == 0 {
		t.Error("the ConfigMap names no Redis: serve would start the embedded one")
	}
	secret := byKind["Secret"]
	keys, _ := get(secret, "stringData").(map[string]any)
	for _, e := range anyList(get(c, "env")) {
		if name, value := str(get(e, "name")), str(get(e, "value")); strings.HasSuffix(name, "_FILE") && keys[filepath.Base(value)] == nil {
			t.Errorf("%s reads %s, which the Secret does not hold", name, filepath.Base(value))
		}
	}

	if s := byKind["Service"]; !matches(get(s, "spec", "selector")) || (str(get(s, "spec", "ports", 0, "targetPort")) != portName && itoa(get(s, "spec", "ports", 0, "targetPort")) != defaultPort(t)) {
		t.Errorf("the Service does not select the pods' port: %v", get(s, "spec"))
	}
	if p := byKind["PodDisruptionBudget"]; !matches(get(p, "spec", "selector", "matchLabels")) || (get(p, "spec", "minAvailable") == nil && get(p, "spec", "maxUnavailable") == nil) {
		t.Errorf("the PodDisruptionBudget does not cover the pods: %v", get(p, "spec"))
	}
	h := byKind["HorizontalPodAutoscaler"]
	if str(get(h, "spec", "scaleTargetRef", "kind")) != "Deployment" || str(get(h, "spec", "scaleTargetRef", "name")) != str(get(dep, "metadata", "name")) {
		t.Errorf("the autoscaler does not target the Deployment: %v", get(h, "spec", "scaleTargetRef"))
	}
	if str(get(h, "spec", "metrics", 0, "resource", "name")) != "cpu" {
		t.Errorf("the autoscaler does not scale on CPU: %v", get(h, "spec", "metrics"))
	}
}

var quantity = regexp.MustCompile(`^(\d+)(Mi|Gi|MiB|GiB)$`)

func mib(q string) int {
	m := quantity.FindStringSubmatch(q)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	if strings.HasPrefix(m[2], "G") {
		n *= 1024
	}
	return n
}

func gomemlimitBelow(t *testing.T, c any, limit string) bool {
	for _, e := range anyList(get(c, "env")) {
		if str(get(e, "name")) == "GOMEMLIMIT" {
			g, l := mib(str(get(e, "value"))), mib(limit)
			return g > 0 && l > 0 && g < l
		}
	}
	return false
}

func anyList(v any) []any { l, _ := v.([]any); return l }

func anyStrings(v any) []string {
	var out []string
	for _, x := range anyList(v) {
		out = append(out, str(x))
	}
	return out
}

func itoa(v any) string {
	switch n := v.(type) {
	case uint64:
		return strconv.FormatUint(n, 10)
	case int64:
		return strconv.FormatInt(n, 10)
	case string:
		return n
	}
	return ""
}
