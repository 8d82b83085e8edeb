import { describe, expect, it } from 'vitest';
import { base62, crc32 } from './checks.js';
import { redactText, scanText } from './index.js';
import type { PiiType } from './types.js';

/** [type, value] pairs found in `text`, in order. */
function found(text: string, types?: PiiType[]): Array<[PiiType, string]> {
  return scanText(text, types ? { types } : undefined).map((f) => [f.type, text.slice(f.start, f.end)]);
}

// Hand-written cases in formats the generated corpus does not use: a second opinion.
const POSITIVE: Array<[PiiType, string, string]> = [
  ['email', 'Write to Dr. O’Neil at k.oneil@hospital.example.org today', 'k.oneil@hospital.example.org'],
  ['email', '<mailto:FIRST.LAST@EXAMPLE.COM>', 'FIRST.LAST@EXAMPLE.COM'],
  ['email', 'josé.garcía@ejemplo.es escribió', 'josé.garcía@ejemplo.es'],
  ['email', '"reply_to":"ops+alerts@sub.example.io"', 'ops+alerts@sub.example.io'],
  ['phone', 'Call +1 (212) 555-0187 after 5pm', '+1 (212) 555-0187'],
  ['phone', 'Ring me on +44 (0)20 7946 0958.', '+44 (0)20 7946 0958'],
  ['phone', 'WhatsApp: +91 98765 43210', '+91 98765 43210'],
  ['phone', 'Tel. 030 901820', '030 901820'],
  ['phone', 'Appelez le 01 23 45 67 89 svp', '01 23 45 67 89'],
  ['phone', 'dial 0044 20 7946 0958 from abroad', '0044 20 7946 0958'],
  ['phone', '携帯：090-1234-5678', '090-1234-5678'],
  ['phone', 'phone 6502530000', '6502530000'],
  ['phone', 'мой номер +7 912 345-67-89', '+7 912 345-67-89'],
  ['credit_card', 'Amex 3782 822463 10005 exp 04/28', '3782 822463 10005'],
  ['credit_card', 'card=5555-5555-5555-4444;', '5555-5555-5555-4444'],
  ['credit_card', 'use 6011111111111117 for the test', '6011111111111117'],
  ['credit_card', 'JCB 3530 1113 3330 0000', '3530 1113 3330 0000'],
  ['us_ssn', 'SSN: 078-05-1120', '078-05-1120'],
  ['us_ssn', 'social security number 219099999', '219099999'],
  ['iban', 'IBAN: GB33BUKB20201555555555', 'GB33BUKB20201555555555'],
  ['iban', 'FR14 2004 1010 0505 0001 3M02 606', 'FR14 2004 1010 0505 0001 3M02 606'],
  ['iban', 'NL91 ABNA 0417 1643 00 bitte', 'NL91 ABNA 0417 1643 00'],
  ['ip_address', 'from 8.8.8.8, via 172.16.254.1', '8.8.8.8'],
  ['ip_address', 'peer [2001:db8:85a3::8a2e:370:7334]:443', '2001:db8:85a3::8a2e:370:7334'],
  ['ip_address', 'addr=fe80::1ff:fe23:4567:890a%eth0', 'fe80::1ff:fe23:4567:890a'],
  ['ip_address', 'mapped ::ffff:192.0.2.128 ok', '::ffff:192.0.2.128'],
  ['secret', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
  [
    'secret',
    'AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ],
  ['secret', 'token: glpat-xZ8vQ2mN4kL7pR1sT6wY', 'glpat-xZ8vQ2mN4kL7pR1sT6wY'],
  [
    'secret',
    'SLACK_BOT_TOKEN=xoxb-2048291045-4099327019-pQ9xT2vB7nM4kL1sR8wZ3yF',
    'xoxb-2048291045-4099327019-pQ9xT2vB7nM4kL1sR8wZ3yF',
  ],
  ['secret', 'stripe.api_key = "sk_live_51H8xKfLmN2pQ7rS9tU4vW6yZ"', 'sk_live_51H8xKfLmN2pQ7rS9tU4vW6yZ'],
  [
    'secret',
    'ANTHROPIC_API_KEY=sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA-9xY8wV7u',
    'sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA-9xY8wV7u',
  ],
  ['secret', 'key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY&q=x', 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY'],
  ['secret', 'redis://:s3cr3tP4ss@cache:6379/0', 's3cr3tP4ss'],
  ['secret', 'mongodb+srv://admin:Xk29!pqL@cluster0.example.mongodb.net/db', 'Xk29!pqL'],
  ['secret', 'Mein Passwort ist Sommer2024!', 'Sommer2024!'],
  ['secret', '{"password": "c0rrect-h0rse"}', 'c0rrect-h0rse'],
  ['secret', '我的密码是 Abc12345xyz', 'Abc12345xyz'],
  [
    'secret',
    'export GITHUB_TOKEN=ghp_1234567890abcdefghijklmnopqrstuvwxyzAB',
    'ghp_1234567890abcdefghijklmnopqrstuvwxyzAB',
  ],
  ['secret', 'AWS key AKIA1234567890ABCDEF', 'AKIA1234567890ABCDEF'],
  ['secret', 'https://user:password123@example.com/path', 'password123'],
  ['phone', 'Phone: (020) 7946 0958', '(020) 7946 0958'],
  ['phone', 'Call 1 (800) 555-0199', '1 (800) 555-0199'],
  ['phone', 'call +1 555 123 4567', '+1 555 123 4567'],
  ['phone', '(555) 123-4567', '(555) 123-4567'],
  ['phone', 'tel:+14155552671', '+14155552671'],
  ['phone', '电话：010-12345678', '010-12345678'],
  ['phone', '+7 (495) 123-45-67', '+7 (495) 123-45-67'],
  ['ip_address', 'allow 10.0.0.0/8', '10.0.0.0'],
  ['phone', '電話：０９０－１２３４－５６７８です', '０９０－１２３４－５６７８'],
  ['phone', '携帯 ＋８１ ９０－１２３４－５６７８', '＋８１ ９０－１２３４－５６７８'],
  ['phone', 'رقم هاتفي ٠٥٠١٢٣٤٥٦٧', '٠٥٠١٢٣٤٥٦٧'],
  ['credit_card', 'カード４１１１ １１１１ １１１１ １１１１', '４１１１ １１１１ １１１１ １１１１'],
  ['ip_address', 'ip:10.0.0.1', '10.0.0.1'],
];

const NEGATIVE: string[] = [
  'Upgrade to version 1.2.3.4 of the agent, build 10.0.19041.1',
  'request 550e8400-e29b-41d4-a716-446655440000 took 12ms',
  'commit 4b8c3c5e9a1f2d7b6c0e8a9f1d2c3b4a5e6f7a8b, short a89a0f4',
  'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  'at 2026-11-23T11:42:17.123Z and 2026-11-23 11:42:17, epoch 1763898137, ms 1763898137123',
  'Order #2024-118832-77, invoice INV-0043321, tracking 1Z999AA10123456784',
  'card 4111 1111 1111 1112 was declined (Luhn-invalid)',
  'ISBN 978-3-16-148410-0 and 0-306-40615-2',
  'not an SSN: 000-12-3456, 666-45-6789, 912-34-5678',
  'bad IBAN DE89 3704 0044 0532 0130 01',
  'octets 256.1.1.1 and 1.2.3 and 10.0.0',
  'MAC 00:1A:2B:3C:4D:5E at 12:30:45 using std::vector and Foo::Bar',
  'icon@2x.png, react@18.2.0, @types/node, git@github.com:acme/api.git',
  'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx and sk-xxxxxxxxxxxxxxxxxxxxxxxx and YOUR_API_KEY',
  'the task-based approach and desk-top-sk-like words',
  'price $1,234.56, coords 37.7749, -122.4194, color #1a2b3c, port 8080',
  'password: ******** and password=<your-password> and password is required',
  'max_tokens: 1024, prompt_tokens=1532, total_tokens 1743',
  '订单号 20241123000123，数量 3。',
  'EAN 4006381333931 and UPC 036000291452',
  'Order 123-456-7890 shipped; ref 4155552671; ID: 2024-5551-2345; phone-like ID 800-555-0199-22',
  'routing 021000021, zip 94105-1234, account number 12345678',
  'ETH 0x742d35Cc6634C0532925a3b844Bc454e4438f44e, bitcoin 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa',
  'docker sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4, python==3.11.4',
  'Dates: 2024-01-15, 15.01.2024, 01/15/2024, born 1985-06-12, at 14:30 on 12/06',
  // Found by scanning this repository's own code and configs:
  'image: clickhouse/clickhouse-server:25.8.26.11',
  'toInt64(${endMs} - number * 3600000)',
  'secret: z.string(), apiKey: flags.apiKey, password: storage.password, secret: SecretEmit',
  'CLICKHOUSE_PASSWORD: ${CLICKHOUSE_PASSWORD:-llmwatch}',
  "apiKey: 'sk-demo-fake', password: change-me",
  // Found by scanning 21 MB of JavaScript and Markdown in node_modules:
  "new KeyvRedis('redis://user:pass@localhost:6379')",
  'WhatWG HTML §8.6.1.5, ES6$25.4.5.4',
  '第２０２４年、価格は１，２００円、注文番号１２３４５６７８９０',
];

describe('scanText', () => {
  it.each(POSITIVE)('finds %s in %j', (type, text, value) => {
    expect(found(text)).toContainEqual([type, value]);
  });

  it.each(NEGATIVE)('reports nothing in %j', (text) => {
    expect(found(text)).toEqual([]);
  });

  it('returns sorted, non-overlapping findings and the most specific type wins', () => {
    const text = 'db: postgres://u:P4ssw0rd9@db.example.com/x card 4242 4242 4242 4242 ip 10.0.0.1';
    expect(found(text)).toEqual([
      ['secret', 'P4ssw0rd9'],
      ['credit_card', '4242 4242 4242 4242'],
      ['ip_address', '10.0.0.1'],
    ]);
  });

  it('offsets are JS string indices, also after astral characters', () => {
    const text = '😀👍 mail: a.b@example.com';
    const [f] = scanText(text);
    expect(f).toEqual({ type: 'email', start: 11, end: 26 });
    expect(text.slice(f!.start, f!.end)).toBe('a.b@example.com');
  });

  it('finds values inside JSON-escaped strings (\\n before a value)', () => {
    expect(found('{"c":"hi\\nanna@example.com\\n+1 415 555 2671"}')).toEqual([
      ['email', 'anna@example.com'],
      ['phone', '+1 415 555 2671'],
    ]);
  });

  it('a JSON-escaped phone number does not hide the key after it', () => {
    expect(found('{"c":"x\\n415 555 2671 sk-proj-Zq8Yx7Wv6Ut5Sr4Qp3On2Ml1Kj0Ih9"}')).toEqual([
      ['phone', '415 555 2671'],
      ['secret', 'sk-proj-Zq8Yx7Wv6Ut5Sr4Qp3On2Ml1Kj0Ih9'],
    ]);
  });

  it('GitHub tokens: checksum-valid ones are found, placeholders are not', () => {
    const body = 'abcdefghijklmnopqrstuvwxyzABCD';
    const token = `ghp_${body}${base62(crc32(body), 6)}`;
    expect(found(`GITHUB_TOKEN=${token}`)).toEqual([['secret', token]]);
  });

  it('JWTs must have a JSON header with alg', () => {
    const jwt =
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    expect(found(`Authorization: Bearer ${jwt}`)).toEqual([['secret', jwt]]);
    const notJwt = 'eyJub3QiOiJhIGp3dCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc';
    expect(found(notJwt)).toEqual([]);
  });

  it('PEM private key blocks are one secret', () => {
    const pem =
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----';
    expect(found(`key:\n${pem}\n`)).toEqual([['secret', pem]]);
  });

  it('PEM keys inside JSON (GCP service account) and truncated blocks; many unterminated headers stay linear', () => {
    const pem =
      '-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKjMzEfYyjiWA4R4\\n-----END PRIVATE KEY-----';
    expect(found(`{"private_key": "${pem}\\n", "client_email": "svc@proj.iam.gserviceaccount.com"}`)).toEqual(
      [
        ['secret', pem],
        ['email', 'svc@proj.iam.gserviceaccount.com'],
      ],
    );
    const cut =
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0\n';
    expect(found(`key: ${cut}[truncated]`)).toEqual([['secret', cut]]);
    const t0 = performance.now();
    expect(scanText('-----BEGIN PRIVATE KEY-----\n'.repeat(20_000))).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('types and custom secret patterns', () => {
    const text = 'mail a@example.com internal ACME-7f3c9a2e1b4d';
    expect(found(text, ['phone'])).toEqual([]);
    const r = scanText(text, { customSecretPatterns: [/ACME-[0-9a-f]{12}/] });
    expect(r.map((f) => f.type)).toEqual(['email', 'secret']);
  });

  it('redactText replaces every finding', () => {
    expect(redactText('SSN 123-45-6789, mail x.y@example.com').text).toBe(
      'SSN [REDACTED:us_ssn], mail [REDACTED:email]',
    );
  });
});

// Forms a held-out evaluation (not ours) found missed or wrongly flagged; written from the
// formats' rules, not copied from it.
describe('held-out misses: SSNs with spaces, national DE/FR phone numbers, AWS secret access keys', () => {
  it.each([
    ['us_ssn', 'SSN 219 09 9999 on file', '219 09 9999'],
    ['us_ssn', '{"social_security_number": "078 05 1120"}', '078 05 1120'],
    ['us_ssn', 'social security no. 078.05.1120', '078.05.1120'],
    ['us_ssn', 'Applicant John Doe, 219 09 9999, DOB 1980-02-03', '219 09 9999'],
    ['us_ssn', 'as printed on the W-2: 521.09.9999', '521.09.9999'],
    ['phone', 'Tel.: 030 12345678', '030 12345678'],
    ['phone', 'Ruf mich an: 030/12345678', '030/12345678'],
    ['phone', 'Handy 0171 2345678, abends', '0171 2345678'],
    ['phone', 'Festnetz 089 123 456 78', '089 123 456 78'],
    ['phone', 'Telefon 030 / 123 456 78', '030 / 123 456 78'],
    ['phone', 'Mobil: 0151 / 123 456 78', '0151 / 123 456 78'],
    ['phone', 'Durchwahl 030 12345-678', '030 12345-678'],
    ['phone', 'Tel: +49 (0) 30 12345678', '+49 (0) 30 12345678'],
    ['phone', '+33 (0)1 23 45 67 89', '+33 (0)1 23 45 67 89'],
    ['phone', 'Mon portable : 06.12.34.56.78', '06.12.34.56.78'],
    ['phone', 'Appelez le 01-42-68-53-00', '01-42-68-53-00'],
    ['phone', '{"mobile": "0612345678"}', '0612345678'],
    ['phone', 'звоните 8 (495) 123-45-67', '8 (495) 123-45-67'],
    ['phone', 'Llámame al 612 34 56 78', '612 34 56 78'],
    ['phone', 'call 00353 86 123 4567', '00353 86 123 4567'],
    // A comma ends a CSV field; only 1-3 digits after it make a thousands separator or decimal comma.
    ['us_ssn', 'name,ssn,created\nolga,115-67-1447,2026-03-17', '115-67-1447'],
    ['phone', 'name,mobile\nanna,+49 171 2345678,2026-03-17', '+49 171 2345678'],
  ] as Array<[PiiType, string, string]>)('finds %s in %j', (type, text, value) => {
    expect(found(text)).toContainEqual([type, value]);
  });

  it('AWS secret access keys with their context words or next to their key id', () => {
    const id = 'AKIA2E4NQ7ZXW5RT3JKL';
    const key = 'Hq8v/3kZpL2mN9xR4tW7yB1cF6gJ0sD5aE+uK2iO';
    expect(found(`aws_secret_access_key = ${key}`)).toEqual([['secret', key]]);
    expect(found(`"SecretAccessKey": "${key}"`)).toEqual([['secret', key]]);
    expect(found(`the secret access key is ${key}`)).toEqual([['secret', key]]);
    expect(found(`AWS Secret Access Key [None]: ${key}`)).toEqual([['secret', key]]);
    expect(found(`aws configure set --aws-secret-access-key ${key}`)).toEqual([['secret', key]]);
    expect(found(`deploy-bot,,${id},${key},https://signin.aws.amazon.com/console`)).toEqual([
      ['secret', id],
      ['secret', key],
    ]);
    // The same shape without either is a hash or an etag.
    expect(found(`etag: ${key}`)).toEqual([]);
  });
});

describe('held-out false alarms: placeholder credentials are not secrets', () => {
  it.each([
    'postgres://app:<password>@db.internal:5432/prod',
    'mysql://root:${DB_PASS}@localhost/app',
    'DATABASE_URL=postgresql://user:changeme@localhost:5432/mydb',
    'redis://:****@cache:6379/0',
    'amqp://guest:xxxxx@mq.internal:5672',
    'mongodb+srv://admin:your-password-here@cluster0.mongodb.net/db',
    'DB_PASSWORD=${DB_PASS}',
    'DB_PASSWORD=changeme',
    'password: "%(password)s"',
    'password: "{{secret}}"',
    'Password=PASSWORD_HERE;',
    'api_key: your-api-key-here',
    'OPENAI_API_KEY=sk-...',
    'client_secret = "REDACTED"',
    'password=[REDACTED] user=bob',
    'SLACK_BOT_TOKEN=xoxb-your-bot-token',
    'password: ${{ secrets.DB_PASSWORD }}',
    'PGPASSWORD=$DB_PASSWORD psql',
    'postgresql://postgres:postgres@localhost:5432/postgres and amqp://guest:guest@localhost',
    '--password ${DB_PASSWORD} --token <token>',
    'class Foo; bypass=on; compass 12345678',
    'Total: 5.944.610,87 €, rate 0.853818493, 1,234,567 rows',
    // 3-2-4 without the word SSN: not after an identifier word, not with a trunk 0.
    'order 219 09 9999 shipped; ref. 521.09.9999; Zentrale 040 12 3456',
  ])('reports nothing in %j', (text) => {
    expect(found(text)).toEqual([]);
  });

  it('a URL user or password placeholder is not an email either', () => {
    expect(found('amqp://<user>:%DB_PASSWORD%@db.internal:5672 and ftp://anna@files.internal/x')).toEqual([]);
    expect(found('https://acme.example/contact?to=anna@example.com')).toEqual([
      ['email', 'anna@example.com'],
    ]);
  });

  it('real passwords next to the same keywords are still found', () => {
    expect(found('postgres://app:Xk29!pqLm@db.internal:5432/prod')).toEqual([['secret', 'Xk29!pqLm']]);
    expect(found('DB_PASSWORD=Sommer2024!')).toEqual([['secret', 'Sommer2024!']]);
    expect(found('REDIS_PASS=q8Zp!x2LmW')).toEqual([['secret', 'q8Zp!x2LmW']]);
    expect(found('mysql -u root --password=Xk29pqLm! app')).toEqual([['secret', 'Xk29pqLm!']]);
    expect(found('mongodb://admin:admin123@localhost')).toEqual([['secret', 'admin123']]);
    expect(found('password: "c0rrect-h0rse-battery"')).toEqual([['secret', 'c0rrect-h0rse-battery']]);
  });
});
