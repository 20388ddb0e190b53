// A webhook receiver and an SMTP catcher on local ports: what the admins' tools would be.
import { createServer, type Server } from 'node:http';
import { SMTPServer } from 'smtp-server';
import type { Notification } from '../workflows/types';

export interface Receivers {
  webhook: (Notification & { subject: string; link: string; text: string })[];
  mail: string[];
  webhookUrl: string;
  smtpPort: number;
  close(): Promise<void>;
}

/** The config's notifications section that sends to these receivers. */
export const notificationsTo = (r: Receivers) => ({
  webhook: { url: r.webhookUrl },
  email: { host: '127.0.0.1', port: r.smtpPort, from: 'archiver@example.edu', to: ['moodle-admins@example.edu'] },
});

/** A webhook receiver and an SMTP catcher on local ports: what the admins' tools would be. */
export async function startReceivers(): Promise<Receivers> {
  const webhook: Receivers['webhook'] = [];
  const mail: string[] = [];
  const http: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      webhook.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, done) {
      let raw = '';
      stream.on('data', (c) => {
        raw += c;
      });
      stream.on('end', () => {
        mail.push(raw);
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  return {
    webhook,
    mail,
    webhookUrl: `http://127.0.0.1:${(http.address() as { port: number }).port}/hooks/archiver`,
    smtpPort: (smtp.server.address() as { port: number }).port,
    close: async () => {
      await new Promise((r) => http.close(r));
      await new Promise((r) => smtp.close(() => r(undefined)));
    },
  };
}
