/** What the cluster primary and its workers tell each other (environment variables and IPC messages). */
export const WORKER_CONFIG_ENV = 'KEYWARD_WORKER_CONFIG';
export const WORKER_ID_ENV = 'KEYWARD_WORKER_ID';

export type WorkerMessage = { readonly type: 'keyward-ready'; readonly url: string; readonly pid: number };
