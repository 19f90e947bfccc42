import { InvalidArgumentError, type Command } from 'commander';
import type { ApprovalRecord, ApprovalStatus, ApprovalVote, FactoryContext } from '@connector-factory/factory';
import { withFactory, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, table, type ExitCode, type Io } from '../io.js';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'all'] as const;
type StatusFilter = (typeof STATUSES)[number];

function parseStatus(text: string): StatusFilter {
  if (!(STATUSES as readonly string[]).includes(text)) {
    throw new InvalidArgumentError(`"${text}" is not a status: ${STATUSES.join(', ')}`);
  }
  return text as StatusFilter;
}

interface ListOptions extends FactoryOptions {
  readonly status: StatusFilter;
  readonly resource?: string;
  readonly json?: boolean;
}

interface DecideOptions extends FactoryOptions {
  readonly reason?: string;
  readonly json?: boolean;
}

/** A request with its votes and what its level needs, as `list --json` and `show --json` print it. */
async function withVotes(context: FactoryContext, record: ApprovalRecord) {
  const votes: ApprovalVote[] = await context.store.approvals.votes(record.id);
  return { ...record, required: context.cars.requirementFor(record.riskLevel).approvals, votes };
}

function describe(record: Awaited<ReturnType<typeof withVotes>>): string {
  const lines = [
    `${record.id}  ${record.status}`,
    `  action        ${record.action} ${record.resource} (${record.riskLevel} risk)`,
    `  requested     ${record.requestedAt} by ${record.requestedBy}`,
    `  expires       ${record.expiresAt}`,
    `  approvals     ${record.votes.length} of ${record.required}`,
    ...record.votes.map((v) => `    ${v.actor} at ${v.votedAt}${v.reason !== null ? `: ${v.reason}` : ''}`),
  ];
  if (record.decidedBy !== null) {
    lines.push(`  decided       ${record.status} at ${record.decidedAt ?? '?'} by ${record.decidedBy}`);
    if (record.reason !== null) lines.push(`  reason        ${record.reason}`);
  }
  lines.push(
    '  evidence',
    ...JSON.stringify(record.evidence, null, 2)
      .split('\n')
      .map((line) => `    ${line}`),
  );
  return lines.join('\n');
}

/** `connector-factory approvals list|show|approve|reject`: the CARS approval requests. */
export function registerApprovals(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  const approvals = program
    .command('approvals')
    .description('review and decide the CARS approval requests (production deploys and other high-risk actions)')
    .addHelpText(
      'after',
      '\nWho may approve comes from the policy (--policy, $CONNECTOR_FACTORY_POLICY or .connector-factory/policy.yaml;\n' +
        'without one everybody is admin). Nobody approves their own request. Every decision is an audit receipt.\n' +
        '\nExamples:\n  connector-factory approvals list\n  connector-factory approvals show apr_m1x2y3_0a1b2c3d4e5f\n' +
        '  connector-factory approvals approve apr_m1x2y3_0a1b2c3d4e5f --reason "tests and diff reviewed"',
    );

  withFactoryOptions(
    approvals
      .command('list', { isDefault: true })
      .description('list approval requests, newest first')
      .option('--status <status>', `only these: ${STATUSES.join(', ')}`, parseStatus, 'pending')
      .option('--resource <id>', 'only requests for this resource (a connector id)')
      .option('--json', 'print the requests, with their votes and required approvals, as JSON'),
  )
    .addHelpText('after', '\nExample:\n  connector-factory approvals list --status all --json')
    .action(async (options: ListOptions) => {
      await withFactory(options, async (context) => {
        const records = await context.store.approvals.list({
          ...(options.status !== 'all' ? { status: options.status as ApprovalStatus } : {}),
          ...(options.resource !== undefined ? { resource: options.resource } : {}),
        });
        const full = await Promise.all(records.map((record) => withVotes(context, record)));
        if (options.json) printJson(io, full);
        else if (full.length === 0) {
          io.out(options.status === 'all' ? 'no approval requests' : `no ${options.status} approval requests`);
        } else {
          io.out(
            table([
              ['ID', 'STATUS', 'RISK', 'ACTION', 'RESOURCE', 'REQUESTED BY', 'EXPIRES', 'APPROVALS'],
              ...full.map((r) => [
                r.id,
                r.status,
                r.riskLevel,
                r.action,
                r.resource,
                r.requestedBy,
                r.expiresAt,
                `${r.votes.length}/${r.required}`,
              ]),
            ]),
          );
        }
        setExit(EXIT.ok);
      });
    });

  withFactoryOptions(
    approvals
      .command('show')
      .description('show one request with the evidence behind it')
      .argument('<id>', 'the request id (apr_…)')
      .option('--json', 'print the request as JSON'),
  )
    .addHelpText('after', '\nExample:\n  connector-factory approvals show apr_m1x2y3_0a1b2c3d4e5f')
    .action(async (id: string, options: FactoryOptions & { json?: boolean }) => {
      await withFactory(options, async (context) => {
        const record = await context.store.approvals.get(id);
        if (!record) {
          io.err(`error: no approval request ${id}; \`connector-factory approvals list --status all\` shows them`);
          setExit(EXIT.invalidInput);
          return;
        }
        const full = await withVotes(context, record);
        if (options.json) printJson(io, full);
        else io.out(describe(full));
        setExit(EXIT.ok);
      });
    });

  withFactoryOptions(
    approvals
      .command('approve')
      .description('approve a pending request (its level may need more than one approver)')
      .argument('<id>', 'the request id (apr_…)')
      .option('--reason <text>', 'why: recorded with the approval and in the audit log')
      .option('--json', 'print the request after the approval as JSON'),
  )
    .addHelpText(
      'after',
      '\nExit status: 0 recorded, 1 no longer pending (decided or expired) or already approved by you,\n' +
        '4 not allowed (your own request, or your role may not approve this level).\n' +
        '\nExample:\n  connector-factory approvals approve apr_m1x2y3_0a1b2c3d4e5f --reason "diff reviewed" --actor alice',
    )
    .action(async (id: string, options: DecideOptions) => {
      await withFactory(options, async (context) => {
        const record = await context.cars.approve(id, context.actor, options.reason);
        const full = await withVotes(context, record);
        if (options.json) printJson(io, full);
        else if (record.status === 'approved') {
          io.out(`approved ${id} (${record.action} ${record.resource}); run the ${record.action} again to go ahead`);
        } else {
          const left = full.required - full.votes.length;
          io.out(
            `recorded ${context.actor.name}'s approval of ${id}: ${full.votes.length} of ${full.required}, ${left} more needed`,
          );
        }
        setExit(EXIT.ok);
      });
    });

  withFactoryOptions(
    approvals
      .command('reject')
      .description('reject a pending request (an approver, or its requester withdrawing it)')
      .argument('<id>', 'the request id (apr_…)')
      .requiredOption('--reason <text>', 'why: shown to the requester and recorded in the audit log')
      .option('--json', 'print the request after the rejection as JSON'),
  )
    .addHelpText(
      'after',
      '\nExit status: 0 rejected, 1 no longer pending, 4 not allowed.\n' +
        '\nExample:\n  connector-factory approvals reject apr_m1x2y3_0a1b2c3d4e5f --reason "the diff drops a column"',
    )
    .action(async (id: string, options: DecideOptions) => {
      await withFactory(options, async (context) => {
        const record = await context.cars.reject(id, context.actor, options.reason);
        if (options.json) printJson(io, await withVotes(context, record));
        else io.out(`rejected ${id} (${record.action} ${record.resource})`);
        setExit(EXIT.ok);
      });
    });
}
