// ACL files for the bench: the 10-rule ACL the gateway cases run with, and a
// 10,000-rule one built the way large deployments grow (per-tenant and
// per-service rules, some sharing prefixes and `*` branches with the base
// rules, so the matcher cannot rule them out by the first segment alone).
// Written as YAML and loaded by the real parser.

/** Ten rules of the kinds acl.example.yaml shows. The bench requests /public/hello and /api/data. */
export const BASE_RULES = `  - id: health
    path: /healthz
    public: true
  - id: public
    path: /public/**
    public: true
  - id: api-admin
    path: /api/admin/**
    read: [alice.test]
    write: [alice.test]
    sessions: false
  - id: api
    path: /api/**
    read: [alice.test, "*.partner.test"]
    write: [alice.test]
  - id: reports-admin
    path: /reports/admin/**
    read: [alice.test]
    channelBinding: required
  - id: reports
    path: /reports/**
    read: ["*.partner.test", alice.test]
    write: [alice.test]
  - id: profiles
    path: /users/*/profile
    read: ["*"]
  - id: user-items
    path: /users/*/items/*
    read: [alice.test]
    write: [alice.test]
  - id: upload
    path: /uploads/**
    methods: [POST]
    write: [alice.test, "*.partner.test"]
  - id: docs
    path: /docs/**
    read: ["*"]
`

/** One generated rule; five shapes in turn. */
function generatedRule(i: number): string {
  switch (i % 5) {
    case 0: return `  - id: tenant-${i}-reports\n    path: /tenants/t${i}/reports/**\n    read: ["*.t${i}.partner.test", t${i}.example.test]\n    write: [t${i}.example.test]\n`
    case 1: return `  - id: svc-${i}\n    path: /api/svc${i}/**\n    read: [svc${i}.internal.test]\n    write: [svc${i}.internal.test]\n`
    case 2: return `  - id: user-app-${i}\n    path: /users/*/apps/app${i}\n    read: ["*"]\n`
    case 3: return `  - id: docs-${i}\n    path: /docs/v${i}/*\n    methods: [GET, HEAD]\n    read: ["*"]\n`
    default: return `  - id: tenant-${i}-admin\n    path: /tenants/t${i}/admin/*/settings\n    read: [admin.t${i}.example.test]\n    write: [admin.t${i}.example.test]\n    sessions: false\n`
  }
}

/**
 * `total` rules. With `base` (the default), the ten base rules come last (the
 * worst place for first-match semantics: every generated rule precedes them)
 * after `total - 10` generated ones; without, all `total` are generated.
 */
export function aclYaml(total: number, opts: { base?: boolean } = {}): string {
  const base = opts.base ?? true
  if (base && total < 10) throw new RangeError('the base ACL has 10 rules')
  const parts = ['version: 1\nrules:\n']
  for (let i = 0; i < total - (base ? 10 : 0); i++) parts.push(generatedRule(i))
  if (base) parts.push(BASE_RULES)
  return parts.join('')
}
