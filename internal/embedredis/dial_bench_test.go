package embedredis

import (
	"context"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
)

// BenchmarkPipeline is a message's round trip shape (a few commands in one
// pipeline) from 8 goroutines, over the Unix socket and over TCP.
func BenchmarkPipeline(b *testing.B) {
	for _, via := range []string{"unix", "tcp"} {
		b.Run(via, func(b *testing.B) {
			s, err := Start(Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			o := &redis.Options{Addr: s.Addr()}
			if via == "unix" {
				o.Dialer = s.Dialer()
			}
			rdb := redis.NewClient(o)
			defer rdb.Close()
			ctx := context.Background()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					k := "u:" + strconv.Itoa(i%1000)
					p := rdb.Pipeline()
					p.Get(ctx, k)
					p.Set(ctx, k, "x", 0)
					p.HSet(ctx, k+":h", "a", "1")
					p.Incr(ctx, "n")
					if _, err := p.Exec(ctx); err != nil && err != redis.Nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
