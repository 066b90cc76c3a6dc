/**
 * SqliteTokenStore: the embedded TokenStore adapter (schema in migrations/002-auth.ts).
 *
 * Invariants kept here (see the port header; each is checked by test/contract/token-store.contract.ts):
 * - Every read-then-write runs inside `BEGIN IMMEDIATE` (`.immediate()`): `recordIssued` reads the
 *   parent's revocation state and inserts the child under the same write lock, so a concurrent
 *   `revokeWhere` cascade either sees the child or the child sees its parent revoked.
 * - The revocation cascade is one recursive CTE inside one UPDATE: a tree is revoked all at once or
 *   not at all. `UNION` (not `UNION ALL`) makes the walk terminate even on a malformed cycle.
 * - `revoked_at` is only ever written where it is NULL: revocation is final and keeps its first time.
 * - Statements are prepared once (bulk-revocation statements once per filter shape, at most 32).
 * - The per-request read (`tokenStatus`) selects one computed column by primary key and builds no
 *   record: materialising the whole 14-column row and its JSON was most of the old per-request cost
 *   (test/bench/token-read-micro.ts).
 * - SqliteError codes are translated by sqlite-errors.ts, never by message.
 *
 * The connection is shared with the other Sqlite* adapters: `close()` never closes it.
 */
import type { Statement, Transaction } from 'better-sqlite3';
import { KeywardError, conflict, invalidInput, notFound } from '../../core/errors.js';
import type { PublicJwk } from '../../core/ports/hsm.js';
import type {
  RevokeFilter,
  RevokedInfo,
  SigningKeyRecord,
  SigningKeyState,
  TokenRecord,
  TokenStatus,
  TokenStore,
} from '../../core/ports/token-store.js';
import type { SqliteConnection } from './database.js';
import { withSqliteErrors } from './sqlite-errors.js';

interface TokenRow {
  jti: string;
  accessor: string;
  subject: string;
  auth_method: string;
  role: string | null;
  policies: string;
  env: string;
  parent_jti: string | null;
  issued_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
  num_uses: number | null;
  meta: string;
}

interface KeyRow {
  kid: string;
  label: string;
  alg: string;
  public_jwk: string;
  created_at: number;
  retires_at: number | null;
  state: string;
}

/** Filter field → column, in a fixed order so a filter shape always yields the same SQL. */
const FILTER_COLUMNS = [
  ['jti', 'jti'],
  ['subject', 'subject'],
  ['role', 'role'],
  ['authMethod', 'auth_method'],
  ['parentJti', 'parent_jti'],
  ['env', 'env'],
] as const satisfies ReadonlyArray<readonly [keyof RevokeFilter, string]>;

const TOKEN_COLUMNS =
  'jti, accessor, subject, auth_method, role, policies, env, parent_jti, issued_at, expires_at, revoked_at, revoke_reason, num_uses, meta';

function toTokenRecord(row: TokenRow): TokenRecord {
  const record: TokenRecord = {
    jti: row.jti,
    accessor: row.accessor,
    subject: row.subject,
    authMethod: row.auth_method,
    role: row.role,
    policies: JSON.parse(row.policies) as string[],
    env: row.env,
    parentJti: row.parent_jti,
    issuedAt: new Date(row.issued_at),
    expiresAt: new Date(row.expires_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    meta: JSON.parse(row.meta) as Record<string, string>,
  };
  return row.num_uses === null ? record : { ...record, numUses: row.num_uses };
}

function toKeyRecord(row: KeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    label: row.label,
    alg: 'ES256',
    publicJwk: JSON.parse(row.public_jwk) as PublicJwk,
    createdAt: new Date(row.created_at),
    retiresAt: row.retires_at === null ? null : new Date(row.retires_at),
    state: row.state as SigningKeyState,
  };
}

function keyParams(key: SigningKeyRecord): KeyRow {
  return {
    kid: key.kid,
    label: key.label,
    alg: key.alg,
    public_jwk: JSON.stringify(key.publicJwk),
    created_at: key.createdAt.getTime(),
    retires_at: key.retiresAt === null ? null : key.retiresAt.getTime(),
    state: key.state,
  };
}

export class SqliteTokenStore implements TokenStore {
  private closed = false;
  private readonly insertToken: Statement<[Omit<TokenRow, 'revoked_at' | 'revoke_reason'>]>;
  private readonly selectParent: Statement<[string], { revoked_at: number | null }>;
  private readonly selectByJti: Statement<[string], TokenRow>;
  private readonly selectByAccessor: Statement<[string], TokenRow>;
  private readonly selectRevocation: Statement<[string], { revoked_at: number | null; revoke_reason: string | null }>;
  /** Plucked: 1 revoked, 0 not, undefined no row. */
  private readonly selectStatus: Statement<[string], number>;
  private readonly revokeOne: Statement<[number, string, string]>;
  private readonly selectBySubject: Statement<[string, number], TokenRow>;
  private readonly deleteExpired: Statement<[number]>;
  private readonly insertKey: Statement<[KeyRow]>;
  private readonly selectKeys: Statement<[], KeyRow>;
  private readonly selectKeyState: Statement<[string], { state: string }>;
  private readonly updateKeyState: Statement<[string, number | null, string]>;
  private readonly demoteActive: Statement<[number, string]>;
  private readonly recordTx: Transaction<(row: Omit<TokenRow, 'revoked_at' | 'revoke_reason'>) => void>;
  private readonly setKeyStateTx: Transaction<(kid: string, state: SigningKeyState, retiresAt: number | null) => void>;
  private readonly activateTx: Transaction<(row: KeyRow, previousRetiresAt: number) => void>;
  private readonly takeUse: Statement<[string]>;
  private readonly revokeWhereStatements = new Map<string, Statement<unknown[]>>();

  constructor(private readonly db: SqliteConnection) {
    this.insertToken = db.prepare(
      `INSERT INTO tokens (jti, accessor, subject, auth_method, role, policies, env, parent_jti, issued_at, expires_at, num_uses, meta)
       VALUES (@jti, @accessor, @subject, @auth_method, @role, @policies, @env, @parent_jti, @issued_at, @expires_at, @num_uses, @meta)`,
    );
    this.selectParent = db.prepare('SELECT revoked_at FROM tokens WHERE jti = ?');
    this.selectByJti = db.prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE jti = ?`);
    this.selectByAccessor = db.prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE accessor = ?`);
    this.selectRevocation = db.prepare('SELECT revoked_at, revoke_reason FROM tokens WHERE jti = ?');
    this.selectStatus = db.prepare<[string], number>('SELECT revoked_at IS NOT NULL FROM tokens WHERE jti = ?').pluck();
    this.revokeOne = db.prepare('UPDATE tokens SET revoked_at = ?, revoke_reason = ? WHERE jti = ? AND revoked_at IS NULL');
    this.takeUse = db.prepare(
      'UPDATE tokens SET uses_made = uses_made + 1 WHERE jti = ? AND revoked_at IS NULL AND (num_uses IS NULL OR num_uses = 0 OR uses_made < num_uses)',
    );
    this.selectBySubject = db.prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE subject = ? ORDER BY issued_at DESC, jti LIMIT ?`);
    this.deleteExpired = db.prepare('DELETE FROM tokens WHERE expires_at < ?');
    this.insertKey = db.prepare(
      `INSERT OR IGNORE INTO signing_keys (kid, label, alg, public_jwk, created_at, retires_at, state)
       VALUES (@kid, @label, @alg, @public_jwk, @created_at, @retires_at, @state)`,
    );
    this.selectKeys = db.prepare('SELECT kid, label, alg, public_jwk, created_at, retires_at, state FROM signing_keys ORDER BY created_at, rowid');
    this.selectKeyState = db.prepare('SELECT state FROM signing_keys WHERE kid = ?');
    this.updateKeyState = db.prepare('UPDATE signing_keys SET state = ?, retires_at = ? WHERE kid = ?');
    this.demoteActive = db.prepare("UPDATE signing_keys SET state = 'verify-only', retires_at = ? WHERE state = 'active' AND kid <> ?");

    this.recordTx = db.transaction((row) => {
      if (row.parent_jti !== null) {
        const parent = this.selectParent.get(row.parent_jti);
        if (!parent || parent.revoked_at !== null) throw conflict('parent token is revoked or unknown');
      }
      this.insertToken.run(row);
    });
    this.setKeyStateTx = db.transaction((kid, state, retiresAt) => {
      const current = this.selectKeyState.get(kid);
      if (!current) throw notFound('signing key not found');
      if (current.state === 'retired' && state !== 'retired') throw conflict('a retired signing key cannot be reactivated');
      this.updateKeyState.run(state, retiresAt, kid);
    });
    this.activateTx = db.transaction((row, previousRetiresAt) => {
      if (this.insertKey.run(row).changes !== 1) throw new KeywardError('ERR_ALREADY_EXISTS', 'signing key already recorded');
      this.demoteActive.run(previousRetiresAt, row.kid);
    });
  }

  private run<T>(context: string, fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new KeywardError('ERR_INTERNAL', 'token store closed'));
    try {
      return Promise.resolve(withSqliteErrors(context, fn));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  recordIssued(record: TokenRecord): Promise<void> {
    return this.run('recordIssued', () =>
      this.recordTx.immediate({
        jti: record.jti,
        accessor: record.accessor,
        subject: record.subject,
        auth_method: record.authMethod,
        role: record.role,
        policies: JSON.stringify(record.policies),
        env: record.env,
        parent_jti: record.parentJti,
        issued_at: record.issuedAt.getTime(),
        expires_at: record.expiresAt.getTime(),
        num_uses: record.numUses ?? null,
        meta: JSON.stringify(record.meta),
      }),
    );
  }

  getByJti(jti: string): Promise<TokenRecord | null> {
    return this.run('getByJti', () => {
      const row = this.selectByJti.get(jti);
      return row ? toTokenRecord(row) : null;
    });
  }

  getByAccessor(accessor: string): Promise<TokenRecord | null> {
    return this.run('getByAccessor', () => {
      const row = this.selectByAccessor.get(accessor);
      return row ? toTokenRecord(row) : null;
    });
  }

  revoke(jti: string, at: Date, reason: string): Promise<boolean> {
    // A single conditional UPDATE is its own atomic read-then-write.
    return this.run('revoke', () => this.revokeOne.run(at.getTime(), reason, jti).changes === 1);
  }

  private revokeWhereStatement(filter: RevokeFilter): { stmt: Statement<unknown[]>; params: unknown[] } {
    const used = FILTER_COLUMNS.filter(([field]) => filter[field] !== undefined);
    if (used.length === 0) throw invalidInput('revocation filter must name at least one field');
    const shape = used.map(([field]) => field).join(',');
    let stmt = this.revokeWhereStatements.get(shape);
    if (!stmt) {
      const where = used.map(([, column]) => `${column} = ?`).join(' AND ');
      stmt = this.db.prepare(
        `WITH RECURSIVE tree(jti) AS (
           SELECT jti FROM tokens WHERE ${where}
           UNION
           SELECT t.jti FROM tokens t JOIN tree ON t.parent_jti = tree.jti
         )
         UPDATE tokens SET revoked_at = ?, revoke_reason = ?
         WHERE revoked_at IS NULL AND jti IN (SELECT jti FROM tree)`,
      );
      this.revokeWhereStatements.set(shape, stmt);
    }
    return { stmt, params: used.map(([field]) => filter[field]) };
  }

  revokeWhere(filter: RevokeFilter, at: Date, reason = 'revoked'): Promise<number> {
    return this.run('revokeWhere', () => {
      const { stmt, params } = this.revokeWhereStatement(filter);
      const tx = this.db.transaction(() => stmt.run(...params, at.getTime(), reason).changes);
      return tx.immediate();
    });
  }

  consumeUse(jti: string, at: Date): Promise<boolean> {
    return this.run('consumeUse', () => {
      const tx = this.db.transaction(() => {
        const taken = this.takeUse.run(jti).changes;
        if (taken === 1) return true;
        this.revokeOne.run(at.getTime(), 'num-uses-exhausted', jti);
        return false;
      });
      return tx.immediate();
    });
  }

  tokenStatus(jti: string): Promise<TokenStatus> {
    return this.run('tokenStatus', () => {
      const revoked = this.selectStatus.get(jti);
      if (revoked === undefined) return 'unknown';
      return revoked === 0 ? 'active' : 'revoked';
    });
  }

  isRevoked(jti: string): Promise<boolean> {
    return this.run('isRevoked', () => {
      const row = this.selectRevocation.get(jti);
      return !row || row.revoked_at !== null;
    });
  }

  getRevocation(jti: string): Promise<RevokedInfo | null> {
    return this.run('getRevocation', () => {
      const row = this.selectRevocation.get(jti);
      if (!row || row.revoked_at === null) return null;
      return { revokedAt: new Date(row.revoked_at), reason: row.revoke_reason ?? 'revoked' };
    });
  }

  listBySubject(subject: string, limit = 1000): Promise<TokenRecord[]> {
    return this.run('listBySubject', () => this.selectBySubject.all(subject, limit).map(toTokenRecord));
  }

  purgeExpired(before: Date): Promise<number> {
    return this.run('purgeExpired', () => this.deleteExpired.run(before.getTime()).changes);
  }

  putSigningKey(key: SigningKeyRecord): Promise<boolean> {
    return this.run('putSigningKey', () => this.insertKey.run(keyParams(key)).changes === 1);
  }

  listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.run('listSigningKeys', () => this.selectKeys.all().map(toKeyRecord));
  }

  activateSigningKey(next: SigningKeyRecord, previousRetiresAt: Date): Promise<void> {
    return this.run('activateSigningKey', () =>
      this.activateTx.immediate({ ...keyParams(next), state: 'active', retires_at: null }, previousRetiresAt.getTime()),
    );
  }

  setSigningKeyState(kid: string, state: SigningKeyState, retiresAt: Date | null): Promise<void> {
    return this.run('setSigningKeyState', () => this.setKeyStateTx.immediate(kid, state, retiresAt === null ? null : retiresAt.getTime()));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
