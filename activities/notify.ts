// Notifications: a webhook POST with a JSON body, and an email, to each
// channel the config names. The workflows call this after a session ends and
// when a course fails and waits for a decision; they never fail because of it.
import { log } from '@temporalio/activity';
import got from 'got';
import nodemailer from 'nodemailer';
import { LEDGER_HEADS_FILE, workflowLink, type ArchiverConfig } from '../contract';
import type { Notification } from '../workflows/types';
import type { Catalog } from './catalog';
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** The subject line (and first line of the webhook's `text`). */
export function notificationSubject(n: Notification): string {
  if (n.kind === 'course-failed') return `[archiver] ${n.session}: course ${n.courseId} failed in ${n.phase}`;
  const c = n.counts;
  return `[archiver] ${n.session} ${n.state}: ${c.succeeded} archived, ${c.failed} failed, ${c.skipped} skipped of ${n.total}`;
}

function notificationText(n: Notification, link: string): string {
  const lines = [notificationSubject(n), ''];
  if (n.kind === 'course-failed') {
    lines.push(
      `${n.errorType}: ${n.message}`,
      '',
      `It waits for a decision until ${n.decisionDeadline}:`,
      `  moodle-archiver retry ${n.session} ${n.courseId}    or    moodle-archiver skip ${n.session} ${n.courseId}`,
    );
  } else {
    lines.push(`Vintage ${n.vintage}; started ${n.startedAt}, ended ${n.endedAt}.`);
    if (n.reason) lines.push('', n.reason);
    if (n.failed.length) lines.push('', 'Failed courses:', ...n.failed.map((f) => `  ${f.courseId} (${f.phase}): ${f.message}`));
    if (n.ledgerHead)
      lines.push(
        '',
        `Catalog ledger head: entry ${n.ledgerHead.seq}, ${n.ledgerHead.hash} (keep it: moodle-archiver catalog verify --head ${n.ledgerHead.seq}:${n.ledgerHead.hash})`,
      );
    lines.push('', `Report: archiver report ${n.session}`);
  }
  lines.push('', link);
  return lines.join('\n');
}

export function notifyActivities(config: ArchiverConfig, catalog: Catalog) {
  /** A session's end: the ledger's head goes with the notice, and into each storage folder this host reaches. */
  async function withLedgerHead(n: Notification): Promise<Notification> {
    if (n.kind !== 'session-ended') return n;
    try {
      const ledgerHead = await catalog.ledgerHead();
      const line = catalog.headLine(ledgerHead, { session: n.session });
      for (const storage of Object.values(config.storages))
        if (existsSync(storage.path)) appendFileSync(join(storage.path, LEDGER_HEADS_FILE), line);
      return { ...n, ledgerHead };
    } catch (e) {
      log.warn(`the ledger head could not be read or kept: ${(e as Error).message}`);
      return n;
    }
  }

  return {
    /** Sends to every configured channel; fails (and is retried) only if one of them fails. */
    async notify(given: Notification): Promise<{ sent: string[] }> {
      const n = await withLedgerHead(given);
      const { webhook, email } = config.notifications;
      const link = workflowLink(config, n.workflowId);
      const sent: string[] = [];
      const problems: string[] = [];
      if (webhook) {
        const token = webhook.tokenEnv ? process.env[webhook.tokenEnv] : undefined;
        try {
          const res = await got.post(webhook.url, {
            json: { ...n, subject: notificationSubject(n), text: notificationText(n, link), link },
            headers: token ? { authorization: `Bearer ${token}` } : {},
            timeout: { request: 15_000 },
            retry: { limit: 0 },
            followRedirect: false, // it would send the bearer token wherever the redirect points
          });
          if (res.statusCode >= 300)
            throw new Error(`HTTP ${res.statusCode} redirect not followed: set notifications.webhook.url to where it points`);
          sent.push('webhook');
        } catch (e) {
          problems.push(`webhook ${new URL(webhook.url).host}: ${(e as Error).message}`);
        }
      }
      if (email) {
        const user = email.userEnv ? process.env[email.userEnv] : undefined;
        const pass = email.passwordEnv ? process.env[email.passwordEnv] : undefined;
        const transport = nodemailer.createTransport({
          host: email.host,
          port: email.port,
          secure: email.secure,
          auth: user ? { user, pass } : undefined,
          connectionTimeout: 15_000,
          greetingTimeout: 15_000,
          socketTimeout: 30_000,
        });
        try {
          await transport.sendMail({ from: email.from, to: email.to, subject: notificationSubject(n), text: notificationText(n, link) });
          sent.push('email');
        } catch (e) {
          problems.push(`email via ${email.host}:${email.port}: ${(e as Error).message}`);
        } finally {
          transport.close();
        }
      }
      if (problems.length) {
        log.warn('notification not delivered', { problems });
        throw new Error(`notification not delivered: ${problems.join('; ')}`);
      }
      return { sent };
    },
  };
}
