import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scrub, type SecretKind } from '../../src/data/scrub';

// Fake secrets are assembled at run time so no scanner mistakes this file for a leak.
const rep = (s: string, n: number) => s.repeat(n);
const GH = 'ghp_' + rep('a1B2', 9);
// not AWS's documentation key AKIAIOSFODNN7EXAMPLE, which secretlint leaves alone on purpose
const AWS = 'AKIA' + 'Z7QW3XFAKE0000K2';
const JWT =
  'eyJ' +
  'hbGciOiJIUzI1NiJ9' +
  '.eyJ' +
  'zdWIiOiIxMjM0NTY3ODkwIn0' +
  '.' +
  'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

function kinds(text: string): SecretKind[] {
  return scrub(text).findings.map((f) => f.kind);
}

/** Each pattern: texts that must be caught (with what remains), and near misses that must stay. */
const CASES: { kind: SecretKind; hit: [string, string][]; miss: string[] }[] = [
  {
    kind: 'private-key',
    hit: [
      [
        'a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\nb',
        'a\n<PRIVATE_KEY>\nb',
      ],
      ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----', '<PRIVATE_KEY>'],
      ['x\n-----BEGIN PRIVATE KEY-----\nMIIE (cut short)', 'x\n<PRIVATE_KEY>'],
    ],
    miss: ['-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', '// parse a PRIVATE KEY block here'],
  },
  {
    kind: 'aws-access-key',
    hit: [[`key_id = ${AWS}`, 'key_id = <AWS_ACCESS_KEY>']],
    miss: ['AKIA' + 'IOSFODNN7', 'XAKIA' + 'IOSFODNN7EXAMPLE', 'AKIA' + 'iosfodnn7example'],
  },
  {
    kind: 'github-token',
    hit: [
      [`"${GH}"`, '"<GITHUB_TOKEN>"'],
      ['github_pat_' + rep('A', 22) + '_' + rep('b1', 29) + 'c', '<GITHUB_TOKEN>'],
    ],
    miss: ['ghp_' + rep('a', 20), 'ghx_' + rep('a1B2', 9), 'my_ghp_thing'],
  },
  {
    kind: 'gitlab-token',
    hit: [['glpat-' + 'x1Y2z3W4v5U6t7S8r9Q0', '<GITLAB_TOKEN>']],
    miss: ['glpat-short', 'glpat_' + 'x1Y2z3W4v5U6t7S8r9Q0'],
  },
  {
    kind: 'slack-token',
    hit: [['xoxb-' + '123456789012-1234567890123-' + 'AbCdEfGhIjKlMnOp', '<SLACK_TOKEN>']],
    miss: ['xoxz-' + '123456789012-' + 'AbCdEfGhIjKlMnOp'],
  },
  {
    kind: 'slack-webhook',
    hit: [
      [
        'url: https://hooks.slack.com/services/' + 'T0001/B0002/' + 'XXXXxxxxYYYYyyyy',
        'url: <SLACK_WEBHOOK>',
      ],
    ],
    miss: ['https://hooks.slack.com/services/', 'https://api.slack.com/methods'],
  },
  {
    kind: 'stripe-key',
    hit: [['sk_' + 'live_' + rep('4eC39HqLyjWD', 2), '<STRIPE_KEY>']],
    miss: ['pk_' + 'live_' + rep('4eC39HqLyjWD', 2), 'sk_' + 'live_short', 'desk_test_value'],
  },
  {
    kind: 'openai-key',
    hit: [
      ['OPENAI = sk-' + rep('Ab3d', 12), 'OPENAI = <API_KEY>'],
      ['sk-proj-' + rep('Q9x_Zt7', 7), '<API_KEY>'],
    ],
    miss: ['sk-learn', 'task-' + rep('abcd', 12), 'sk-' + rep('abcdefgh', 5)],
  },
  {
    kind: 'jwt',
    hit: [[`Bearer ${JWT}`, 'Bearer <JWT>']],
    miss: ['eyJhbGci.notajwt', 'eyJ' + 'hbGciOiJIUzI1NiJ9.abc.def'],
  },
  {
    kind: 'connection-password',
    hit: [
      ['postgres://admin:Hunter2!x@db.internal:5432/app', 'postgres://admin:<PASSWORD>@db.internal:5432/app'],
      ['mongodb+srv://u:p4ss@cluster0.mongodb.net', 'mongodb+srv://u:<PASSWORD>@cluster0.mongodb.net'],
    ],
    miss: ['https://user@example.org/x', 'http://localhost:8080/path', 'http://host:80/a@b'],
  },
  {
    kind: 'secret-assignment',
    hit: [
      ['api_key = "Zx8vQ2mN7pL4rT9w"', 'api_key = "<SECRET>"'],
      ['DB_PASSWORD=pR7xK2mQ9vL3nZ8w\n', 'DB_PASSWORD=<SECRET>\n'],
      ['  clientSecret: "a9F$kL2@pQ7!"', '  clientSecret: "<SECRET>"'],
      [
        'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        'aws_secret_access_key = <SECRET>',
      ],
      ['const authToken = `t0k3nV4lu3XyZ`;', 'const authToken = `<SECRET>`;'],
      ['password = "changeme"', 'password = "<SECRET>"'], // short and plain: still a password
      ['DB_PASS=Tr0ub4dor&3!#x\n', 'DB_PASS=<SECRET>\n'], // unquoted, with & ! #
      ['  password: hunter2!\n', '  password: <SECRET>\n'],
      ['PGPASSWORD=pw12 psql -h db', 'PGPASSWORD=<SECRET> psql -h db'],
    ],
    miss: [
      'password = os.environ["DB_PASSWORD"]',
      'secret = "xxxxxxxxxxxx"',
      'token = "${API_TOKEN}"',
      'tokenizer_name = "gpt2-Tokenizer-v2"', // tokenizer is not token
      'token = next_token.value_of_it',
      'max_tokens: 4096',
      'author = "Jane Q. Public 1999"',
    ],
  },
  {
    kind: 'email',
    hit: [
      ['contact jane.doe+tag@mail.example.co.uk now', 'contact <EMAIL> now'],
      ['<a@b.io>', '<<EMAIL>>'],
    ],
    miss: [
      '@decorator\ndef f(): pass',
      'user@localhost',
      'git@github.com:org/repo.git',
      'npm i @scope/pkg@1.2.3',
      'a@b.c',
    ],
  },
  {
    kind: 'ip-address',
    hit: [
      ['server 8.8.4.4.', 'server <IP_ADDRESS>.'],
      ['host=10.0.12.7:22', 'host=<IP_ADDRESS>:22'],
      ['addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up', 'addr <IP_ADDRESS> up'],
      ['via fe80::1ff:fe23:4567:890a', 'via <IP_ADDRESS>'],
    ],
    miss: [
      '127.0.0.1',
      '0.0.0.0',
      '255.255.255.0',
      'v1.2.3.4',
      '1.2.3.4.5',
      '999.1.1.1',
      'AssemblyVersion("1.0.0.0")',
      'std::vector<int>',
      'at 12:34:56',
      '::1',
    ],
  },
];

for (const c of CASES) {
  test(`scrub ${c.kind}: positives replaced, near misses kept`, () => {
    for (const [input, expected] of c.hit) {
      const r = scrub(input);
      assert.equal(r.text, expected, input);
      assert.deepEqual(
        r.findings.map((f) => f.kind),
        [c.kind],
        input,
      );
    }
    for (const input of c.miss) assert.deepEqual(kinds(input), [], input);
  });
}

test('the report gives kind, original line and count, never the secret', () => {
  const text = [
    'line one',
    `a = "${GH}" b = "${GH}"`,
    '',
    '-----BEGIN EC PRIVATE KEY-----',
    'x',
    '-----END EC PRIVATE KEY-----',
    'mail ops@corp.example.com',
  ].join('\n');
  const r = scrub(text);
  assert.deepEqual(r.findings, [
    { kind: 'github-token', line: 2, count: 2 },
    { kind: 'private-key', line: 4, count: 1 },
    { kind: 'email', line: 7, count: 1 },
  ]);
  assert.ok(!JSON.stringify(r.findings).includes('ghp_'));
  assert.ok(!r.text.includes(GH));
});

test('a finding marked as a false positive stays in the text and is reported as allowed', () => {
  const text = 'ip 8.8.8.8\nmail a.b@example.com\nip 1.1.1.1\n';
  const r = scrub(text, [{ kind: 'ip-address', line: 1 }, { kind: 'email' }]);
  assert.equal(r.text, 'ip 8.8.8.8\nmail a.b@example.com\nip <IP_ADDRESS>\n');
  assert.deepEqual(r.findings, [
    { kind: 'ip-address', line: 1, count: 1, allowed: true },
    { kind: 'email', line: 2, count: 1, allowed: true },
    { kind: 'ip-address', line: 3, count: 1 },
  ]);
});

test('text without secrets comes back unchanged and is not copied', () => {
  const text = 'export const x = 1;\n'.repeat(100);
  const r = scrub(text);
  assert.equal(r.text, text);
  assert.deepEqual(r.findings, []);
});
