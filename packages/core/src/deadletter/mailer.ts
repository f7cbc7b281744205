/** An email with the dead letter attached (Mailer port; SMTP or Microsoft Graph behind it). */
export interface MailAttachment {
  filename: string;
  content: string | Uint8Array;
  contentType?: string;
}

export interface Mail {
  to: string;
  subject: string;
  text: string;
  attachments?: readonly MailAttachment[];
}

/** Sending failed: the server refused the recipient or the message, or could not be reached. */
export class MailError extends Error {
  override readonly name = "MailError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Mailer {
  /** Resolves once the server accepted the message; rejects with MailError. */
  send(mail: Mail): Promise<void>;
}
