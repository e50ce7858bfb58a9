package wechat

import (
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"testing"
	"time"
)

// vectors are made by the npm package wechat-crypto (testdata/interop/gen.js).
type vectors struct {
	Generator string `json:"generator"`
	Token     string `json:"token"`
	AESKey    string `json:"aes_key"`
	AppID     string `json:"app_id"`
	Theirs    []struct {
		Plaintext    string `json:"plaintext"`
		Timestamp    string `json:"timestamp"`
		Nonce        string `json:"nonce"`
		Encrypt      string `json:"encrypt"`
		MsgSignature string `json:"msg_signature"`
		Signature    string `json:"signature"`
	} `json:"theirs"`
	FixedRandom []struct {
		Plaintext      string `json:"plaintext"`
		RandomHex      string `json:"random_hex"`
		Encrypt        string `json:"encrypt"`
		Decrypted      string `json:"decrypted"`
		DecryptedAppID string `json:"decrypted_app_id"`
	} `json:"fixed_random"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	data, err := os.ReadFile("testdata/interop/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Theirs) < 8 || len(v.FixedRandom) < 8 {
		t.Fatalf("vectors.json has %d/%d vectors, want 8 each: regenerate with gen.js", len(v.Theirs), len(v.FixedRandom))
	}
	return v
}

// Their ciphertexts and signatures: we verify and decrypt them.
func TestInteropWeOpenTheirs(t *testing.T) {
	v := loadVectors(t)
	key, err := decodeAESKey(v.AESKey)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range v.Theirs {
		if got := sign(v.Token, tc.Timestamp, tc.Nonce, tc.Encrypt); got != tc.MsgSignature {
			t.Errorf("vector %d: msg_signature %s, wechat-crypto %s", i, got, tc.MsgSignature)
		}
		if got := sign(v.Token, tc.Timestamp, tc.Nonce); got != tc.Signature {
			t.Errorf("vector %d: signature %s, wechat-crypto %s", i, got, tc.Signature)
		}
		msg, err := decrypt(key, tc.Encrypt, v.AppID)
		if err != nil {
			t.Errorf("vector %d: %v", i, err)
			continue
		}
		if string(msg) != tc.Plaintext {
			t.Errorf("vector %d: decrypted\n%s\nwant\n%s", i, msg, tc.Plaintext)
		}
	}

	// And through the whole Open path, as the webhook does.
	tc := v.Theirs[0]
	ts, _ := time.Parse(time.RFC3339, "2025-11-24T16:00:00Z")
	srv, err := NewServer(Config{Token: v.Token, AESKey: v.AESKey, AppID: v.AppID, TimestampSkew: 300 * time.Second},
		func() time.Time { return ts })
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"timestamp": {tc.Timestamp}, "nonce": {tc.Nonce}, "signature": {tc.Signature},
		"encrypt_type": {"aes"}, "msg_signature": {tc.MsgSignature}}
	in, err := srv.Open(q, []byte("<xml><ToUserName><![CDATA[gh_interop00001]]></ToUserName><Encrypt><![CDATA["+tc.Encrypt+"]]></Encrypt></xml>"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Message.Text != "什么时候开学？" || in.Message.MsgID != "2460000000000001" || in.Message.User != "oInteropUser0000000000000001" {
		t.Errorf("opened %+v", in.Message)
	}
}

// With the same 16 random bytes our ciphertext must equal theirs byte for
// byte; "decrypted" is wechat-crypto's own decryption of that ciphertext,
// so what we send, they read.
func TestInteropTheyOpenOurs(t *testing.T) {
	v := loadVectors(t)
	key, err := decodeAESKey(v.AESKey)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range v.FixedRandom {
		random, err := hex.DecodeString(tc.RandomHex)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := encrypt(key, random, []byte(tc.Plaintext), v.AppID)
		if err != nil {
			t.Fatal(err)
		}
		if ours != tc.Encrypt {
			t.Errorf("vector %d: our ciphertext differs from wechat-crypto's:\nours   %s\ntheirs %s", i, ours, tc.Encrypt)
		}
		if tc.Decrypted != tc.Plaintext || tc.DecryptedAppID != v.AppID {
			t.Errorf("vector %d: wechat-crypto decrypted %q for %q", i, tc.Decrypted, tc.DecryptedAppID)
		}
	}
}
