package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/secure"
)

// Roles a token may have. A publisher may do everything an editor may.
const (
	RoleEditor    = "editor"    // content: notices, FAQs, rules, synonyms, imports, statistics
	RolePublisher = "publisher" // content and broadcasts
)

var roleRank = map[string]int{RoleEditor: 1, RolePublisher: 2}

// Identity is who a request is made by: the token's name and role.
type Identity struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Context keys set by the authentication middleware.
const (
	ctxIdentity = "edubot.admin.identity"
	ctxAudit    = "edubot.admin.audit"
	ctxAuth     = "edubot.admin.auth"
)

type token struct {
	hash [sha256.Size]byte
	id   Identity
}

// Auth checks bearer tokens. Only SHA-256 hashes of the tokens are kept;
// a presented token is hashed and compared with every known hash in
// constant time.
type Auth struct {
	tokens []token
	// Fails limits failed authentications per client address and per
	// token name (a valid token asking for a role it lacks); past the
	// limit the client or name gets 429 until its window ends.
	Fails *secure.FailLimiter
	// Log gets one warning per refusal (never the token).
	Log *slog.Logger
}

// NewAuth parses "name:role:token" entries (config Admin.Tokens).
func NewAuth(entries []string) (*Auth, error) {
	a := &Auth{Fails: &secure.FailLimiter{}, Log: slog.New(slog.DiscardHandler)}
	seen := map[string]bool{}
	secrets := map[[32]byte]bool{}
	for i, e := range entries {
		parts := strings.SplitN(strings.TrimSpace(e), ":", 3)
		if len(parts) != 3 || parts[0] == "" || roleRank[parts[1]] == 0 || len(parts[2]) < 16 {
			// Never echo the entry: it holds a secret.
			return nil, fmt.Errorf("admin tokens: entry %d must be name:editor|publisher:token with a token of at least 16 characters", i+1)
		}
		if seen[parts[0]] {
			return nil, fmt.Errorf("admin tokens: entry %d: name %q used twice", i+1, parts[0])
		}
		seen[parts[0]] = true
		h := sha256.Sum256([]byte(parts[2]))
		if secrets[h] {
			// One token under two names would make the audit's "who" a guess.
			return nil, fmt.Errorf("admin tokens: entry %d: its token is also another entry's", i+1)
		}
		secrets[h] = true
		a.tokens = append(a.tokens, token{hash: h, id: Identity{Name: parts[0], Role: parts[1]}})
	}
	return a, nil
}

// Len is the number of configured tokens.
func (a *Auth) Len() int { return len(a.tokens) }

// lookup finds the identity of a presented token. Every stored hash is
// compared, so the time taken says nothing about which one matched.
func (a *Auth) lookup(presented string) (Identity, bool) {
	h := sha256.Sum256([]byte(presented))
	var found Identity
	ok := 0
	for _, t := range a.tokens {
		if subtle.ConstantTimeCompare(h[:], t.hash[:]) == 1 {
			found = t.id
			ok = 1
		}
	}
	return found, ok == 1
}

// Authenticate is the middleware of the /admin/api group: a missing or
// unknown bearer token gets 401; a known one puts the identity (and the
// audit log) in the context for RequireRole, Actor and Record. A client
// (or token name) past its failed attempts gets 429 without its token
// being looked at. Refused attempts are logged and audited (kind "auth",
// action "refused"), at most the limit's worth per client and window.
func (a *Auth) Authenticate(audit *store.AuditLog) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(ctxAuth, a)
		if audit != nil {
			c.Set(ctxAudit, audit)
		}
		client := "client:" + c.ClientIP()
		if retry, blocked := a.Fails.Blocked(c.Request.Context(), client); blocked {
			secure.TooMany(c, retry, apiError{Error: "too many failed authentications from this address; try again later"})
			return
		}
		h := c.GetHeader("Authorization")
		scheme, tok, found := strings.Cut(h, " ")
		if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			a.refused(c, client, "", "missing bearer token")
			c.Header("WWW-Authenticate", `Bearer realm="edubot admin"`)
			abort(c, http.StatusUnauthorized, "missing bearer token (Authorization: Bearer TOKEN)", "")
			return
		}
		id, ok := a.lookup(strings.TrimSpace(tok))
		if !ok {
			a.refused(c, client, "", "unknown token")
			c.Header("WWW-Authenticate", `Bearer realm="edubot admin", error="invalid_token"`)
			abort(c, http.StatusUnauthorized, "unknown token", "")
			return
		}
		if retry, blocked := a.Fails.Blocked(c.Request.Context(), "name:"+id.Name); blocked {
			secure.TooMany(c, retry, apiError{Error: fmt.Sprintf("too many refused requests with token %q; try again later", id.Name)})
			return
		}
		c.Set(ctxIdentity, id)
		c.Next()
	}
}

// refused counts a failed attempt against each key, logs it and audits
// it while the key is within its limit (a flood writes at most Max
// entries per key and window).
func (a *Auth) refused(c *gin.Context, client, name, reason string) {
	keys := []string{client}
	if name != "" {
		keys = append(keys, "name:"+name)
	}
	worst := 0
	for _, k := range keys {
		worst = max(worst, a.Fails.Fail(c.Request.Context(), k))
	}
	if worst > a.Fails.Max {
		return
	}
	a.Log.Warn("admin API: refused", "reason", reason, "name", name, "client", c.ClientIP(),
		"method", c.Request.Method, "path", c.FullPath(), "failures", worst, "blocked", worst >= a.Fails.Max)
	v, _ := c.Get(ctxAudit)
	audit, _ := v.(*store.AuditLog)
	if audit == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 500*time.Millisecond)
	defer cancel()
	err := audit.Record(ctx, store.AuditEntry{Actor: name, Action: "refused", Kind: "auth", Item: c.ClientIP(),
		After: map[string]any{"reason": reason, "method": c.Request.Method, "path": c.FullPath(), "failures": worst}})
	if err != nil {
		a.Log.Warn("admin API: auditing a refused attempt", "err", err)
	}
}

// RequireRole lets a request through when its token has role or a
// greater one (publisher ⊇ editor): 403 otherwise, 401 without a token.
// Use it on routes of the group Register returns.
func RequireRole(role string) gin.HandlerFunc {
	need := roleRank[role]
	if need == 0 {
		panic("admin.RequireRole: unknown role " + role) // a programming error, at start-up
	}
	return func(c *gin.Context) {
		v, ok := c.Get(ctxIdentity)
		id, _ := v.(Identity)
		if !ok || id.Name == "" {
			abort(c, http.StatusUnauthorized, "missing bearer token", "")
			return
		}
		if roleRank[id.Role] < need {
			if v, ok := c.Get(ctxAuth); ok {
				v.(*Auth).refused(c, "client:"+c.ClientIP(), id.Name, "role "+id.Role+" lacks "+role)
			}
			abort(c, http.StatusForbidden, fmt.Sprintf("token %q has role %s; this needs %s", id.Name, id.Role, role), "")
			return
		}
		c.Next()
	}
}

// Actor returns the name of the token the request was made with ("" when
// unauthenticated): the "who" of audit entries.
func Actor(c *gin.Context) string {
	v, _ := c.Get(ctxIdentity)
	id, _ := v.(Identity)
	return id.Name
}

// Record writes an audit entry for a staff action outside the content
// store (e.g. a broadcast): who is the request's token, when is now.
// action is a verb (create, send, cancel…), kind what it acted on.
func Record(c *gin.Context, action, kind, item string, before, after any) error {
	v, _ := c.Get(ctxAudit)
	audit, _ := v.(*store.AuditLog)
	if audit == nil {
		return fmt.Errorf("admin: no audit log in this request's context")
	}
	return audit.Record(c.Request.Context(), store.AuditEntry{
		Actor: Actor(c), Action: action, Kind: kind, Item: item, Before: before, After: after,
	})
}

// Lookup returns the identity of a token (the staff console's login uses
// the same accounts as the API).
func (a *Auth) Lookup(token string) (Identity, bool) { return a.lookup(strings.TrimSpace(token)) }
