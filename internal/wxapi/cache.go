package wxapi

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/cache"
)

// Cache implements silenceper's cache.Cache (and ContextCache) on go-redis
// v9; silenceper's own Redis cache is tied to go-redis v8. Values are
// strings (all silenceper stores are tokens and tickets). Keys are used
// as given: silenceper builds them from the prefix passed to it.
type Cache struct {
	rdb     redis.UniversalClient
	timeout time.Duration
}

var _ cache.ContextCache = (*Cache)(nil)

// NewCache returns a cache on rdb; timeout bounds the calls made without a
// context (silenceper's Get/Set).
func NewCache(rdb redis.UniversalClient, timeout time.Duration) *Cache {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &Cache{rdb: rdb, timeout: timeout}
}

func (c *Cache) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// Get returns the string stored at key, or nil if none (or on error:
// silenceper then fetches a fresh token, which is the safe side).
func (c *Cache) Get(key string) any {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.GetContext(ctx, key)
}

// GetContext is Get with a context.
func (c *Cache) GetContext(ctx context.Context, key string) any {
	v, err := c.rdb.Get(ctx, key).Result()
	if err != nil || v == "" {
		return nil
	}
	return v
}

// Set stores val (formatted as a string) for timeout. A timeout of zero or
// less stores nothing: silenceper subtracts a margin from expires_in, and
// go-redis would read a non-positive expiry as "keep forever".
func (c *Cache) Set(key string, val any, timeout time.Duration) error {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.SetContext(ctx, key, val, timeout)
}

// SetContext is Set with a context.
func (c *Cache) SetContext(ctx context.Context, key string, val any, timeout time.Duration) error {
	if timeout <= 0 {
		return nil
	}
	if err := c.rdb.Set(ctx, key, fmt.Sprint(val), timeout).Err(); err != nil {
		return fmt.Errorf("wxapi cache: set: %w", err)
	}
	return nil
}

// IsExist reports whether key is stored.
func (c *Cache) IsExist(key string) bool {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.IsExistContext(ctx, key)
}

// IsExistContext is IsExist with a context.
func (c *Cache) IsExistContext(ctx context.Context, key string) bool {
	n, err := c.rdb.Exists(ctx, key).Result()
	return err == nil && n > 0
}

// Delete removes key.
func (c *Cache) Delete(key string) error {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.DeleteContext(ctx, key)
}

// DeleteContext is Delete with a context.
func (c *Cache) DeleteContext(ctx context.Context, key string) error {
	if err := c.rdb.Del(ctx, key).Err(); err != nil {
		return fmt.Errorf("wxapi cache: delete: %w", err)
	}
	return nil
}
