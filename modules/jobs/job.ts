// One print job as Privet sees it (Privet 5.3) and its semantic state in
// PrintJobState form.

export type JobState = "draft" | "queued" | "in_progress" | "stopped" | "done" | "aborted";

export interface JobCause {
  device_state_cause?: { error_code: "INPUT_TRAY" | "MARKER" | "MEDIA_PATH" | "MEDIA_SIZE" | "MEDIA_TYPE" | "OTHER" };
  device_action_cause?: { error_code: "DOWNLOAD_FAILURE" | "INVALID_TICKET" | "PRINT_FAILURE" | "OTHER" };
  user_action_cause?: { action_code: "CANCELLED" | "PAUSED" | "OTHER" };
}

export interface Job {
  id: string;
  state: JobState;
  // Monotonic ms: when it was made, and when its record may be dropped.
  createdAt: number;
  expiresAt: number;
  ticket?: unknown;
  jobType?: string;
  jobSize?: number;
  jobName?: string;
  userName?: string;
  clientName?: string;
  description?: string;
  cause?: JobCause;
  pagesPrinted: number;
  // The job's id at the Cloud Print service: the cloud job it prints, or the
  // record a finished local job was reported as (Privet 5.2's note).
  serverJobId?: string;
  // Which front end took it; its format is jobType (a MIME type).
  origin?: JobOrigin;
}

export type JobOrigin = "privet" | "ipp" | "cloud";

const SEMANTIC_TYPE: Record<JobState, string> = {
  draft: "DRAFT", queued: "QUEUED", in_progress: "IN_PROGRESS", stopped: "STOPPED", done: "DONE", aborted: "ABORTED",
};

export function jobStateDocument(job: Job, now: number): Record<string, unknown> {
  const doc: Record<string, unknown> = { job_id: job.id, state: job.state };
  if (job.description !== undefined) doc.description = job.description;
  doc.expires_in = Math.max(0, Math.ceil((job.expiresAt - now) / 1000));
  if (job.jobType !== undefined) doc.job_type = job.jobType;
  if (job.jobSize !== undefined) doc.job_size = job.jobSize;
  if (job.jobName !== undefined) doc.job_name = job.jobName;
  if (job.serverJobId !== undefined) doc.server_job_id = job.serverJobId;
  doc.semantic_state = {
    version: "1.0",
    state: { type: SEMANTIC_TYPE[job.state], ...(job.cause ?? {}) },
    pages_printed: job.pagesPrinted,
  };
  return doc;
}
