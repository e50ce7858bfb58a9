// Regenerates vectors.json: WeChat safe-mode crypto as computed by the npm
// package wechat-crypto (an implementation we did not write), for the Go
// interop tests in handlers/wechat and handlers.
//
//   cd handlers/wechat/testdata/interop && npm install && node gen.js > vectors.json
//
// "theirs": their ciphertexts (random padding) and signatures; our code must
//   verify and decrypt them.
// "fixed_random": their ciphertexts with a known 16-byte random prefix; our
//   encryption with the same random must produce the same bytes, so what
//   we send, they decrypt ("decrypted" is their own decryption of it).
'use strict';
const crypto = require('crypto');
const WXBizMsgCrypt = require('wechat-crypto');

const token = 'edubotInteropToken';
const aesKey = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const appId = 'wxinterop0000001';
const c = new WXBizMsgCrypt(token, aesKey, appId);

const at = 1764000000;
const xml = (fields) => '<xml>' + Object.entries(fields).map(([k, v]) =>
  typeof v === 'number' ? `<${k}>${v}</${k}>` : `<${k}><![CDATA[${v}]]></${k}>`).join('') + '</xml>';
const base = { ToUserName: 'gh_interop00001', FromUserName: 'oInteropUser0000000000000001', CreateTime: at };
const messages = [
  xml({ ...base, MsgType: 'text', Content: '什么时候开学？', MsgId: 2460000000000001 }),
  xml({ ...base, MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_campus' }),
  xml({ ...base, MsgType: 'event', Event: 'CLICK', EventKey: 'MENU_FAQ' }),
  xml({ ...base, MsgType: 'voice', MediaId: 'm1', Format: 'amr', Recognition: '初一报名要带什么材料', MsgId: 2460000000000002 }),
  // Reply shapes (what our webhook sends back): text and one news card.
  xml({ ToUserName: base.FromUserName, FromUserName: base.ToUserName, CreateTime: at, MsgType: 'text', Content: '2026年春季学期3月2日开学。' }),
  '<xml><ToUserName><![CDATA[oInteropUser0000000000000001]]></ToUserName><FromUserName><![CDATA[gh_interop00001]]></FromUserName><CreateTime>1764000000</CreateTime><MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount><Articles><item><Title><![CDATA[关于2026年春季开学的通知]]></Title><Description><![CDATA[各县区教育局：现将有关事项通知如下。]]></Description><PicUrl><![CDATA[https://example.org/c.jpg]]></PicUrl><Url><![CDATA[https://example.org/n/1]]></Url></item></Articles></xml>',
  // Long text: many blocks, multi-byte characters across block borders.
  xml({ ...base, MsgType: 'text', Content: '开学时间、报名材料、学位申请。'.repeat(60), MsgId: 2460000000000003 }),
];
// A message whose padded plaintext is an exact multiple of 32 bytes before
// padding, so PKCS#7 adds a whole block of 32s.
for (let pad = ''; ; pad += 'x') {
  const m = xml({ ...base, MsgType: 'text', Content: 'edge' + pad, MsgId: 1 });
  if ((16 + 4 + Buffer.byteLength(m) + appId.length) % 32 === 0) { messages.push(m); break; }
}

const nonceOf = (i) => String(1000000000 + i * 7919);
const theirs = messages.map((m, i) => {
  const encrypt = c.encrypt(m);
  const timestamp = String(at + i);
  const nonce = nonceOf(i);
  return { plaintext: m, timestamp, nonce, encrypt,
    msg_signature: c.getSignature(timestamp, nonce, encrypt),
    // URL verification (GET) signs token, timestamp and nonce only.
    signature: c.getSignature(timestamp, nonce, '') };
});

const realRandom = crypto.pseudoRandomBytes;
const fixed = messages.map((m, i) => {
  const random = crypto.createHash('sha256').update('edubot-interop-' + i).digest().subarray(0, 16);
  crypto.pseudoRandomBytes = () => Buffer.from(random);
  let encrypt;
  try { encrypt = c.encrypt(m); } finally { crypto.pseudoRandomBytes = realRandom; }
  const d = c.decrypt(encrypt);
  return { plaintext: m, random_hex: random.toString('hex'), encrypt, decrypted: d.message, decrypted_app_id: d.id };
});

process.stdout.write(JSON.stringify({
  generator: 'wechat-crypto ' + require('wechat-crypto/package.json').version + ', node ' + process.version,
  token, aes_key: aesKey, app_id: appId, theirs, fixed_random: fixed,
}, null, 2) + '\n');
