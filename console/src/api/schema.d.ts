// Generated from the node's OpenAPI document by `npm run console:api` (test/support/console-api.ts).
// Do not edit: change the API, then regenerate. test/console-api-schema.e2e-spec.ts checks it is current.

export interface paths {
    "/api/alerts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Recent alerts raised by this node
         * @description The latest 100 alerts this node raised (newest first, paged with `limit` and `cursor`) with the outcome per channel. Each node keeps its own: execution alerts come from the node that recorded the report, cluster and dispatch alerts from the leader. A token limited to groups sees the alerts of its groups and those of no group (cluster alerts such as leader_changed).
         */
        get: operations["AlertsController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The audit log: who changed what, newest first (admin)
         * @description One entry per state-changing API call (POST, PUT, PATCH, DELETE; a worker’s register and leave included, its heartbeats, polls and reports not), whatever its outcome: `{id, at, actor, tokenId?, action, method, route, object, status, node, ip}`. Action and object come from the route and its params, never from the request body.
         *
         *     `from`/`to` bound the time; `actor` matches exactly; `action` and `object` match exactly or, ending in `*`, by prefix. At most 5000 entries are examined per request: a page can hold fewer than `limit` items, or none, and still carry `next`; keep passing it as `cursor` (with the same filters) until it is absent.
         *
         *     Entries are written within about 100 ms of the answer, in batches. Retention: FOREST_AUDIT_KEEP entries, none older than FOREST_AUDIT_MAX_AGE_H.
         */
        get: operations["AuditController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Live stream of execution, node and worker changes (SSE)
         * @description Server-sent events (`text/event-stream`) of execution and cluster changes, as they happen.
         *     Read it with `fetch()` and the `Authorization` header (EventSource cannot send headers; tokens never go in the URL).
         *
         *     Each event has `id:` (the store revision of the change), `event:` (its type) and one `data:` line of JSON:
         *
         *     - `execution`: an execution record was written (created, assigned, started, finished):
         *       `{id, jobId, jobName, group, status, worker?, trigger, attempt, scheduledAt, startedAt?, finishedAt?}`;
         *       never params or output (GET /api/executions/{id} has them).
         *     - `node`: `{change: joined | left | leader, nodeId, leader, version?, startedAt?}`; `leader` says whether
         *       the node leads after the change (a `leader` change names the new leader).
         *     - `worker`: `{change: registered | left, group, workerId, host?, capacity?, labels?}`.
         *
         *     Control events, without `id:`: `reset` (changes were missed, for example the resume point is no longer
         *     in the store: reload the state you show, then keep reading) and `overflow` (this client fell too far
         *     behind and is disconnected: reconnect). A comment line (`: heartbeat`) comes every 15 s.
         *
         *     Resume: send `Last-Event-ID` (the last `id` you got) to get every change after it, while the store
         *     still holds that history; otherwise the stream starts with `reset`.
         *
         *     A token limited to groups sees only its groups' executions and workers (nodes are cluster-wide).
         *     Each node serves at most FOREST_EVENTS_MAX_STREAMS streams at once (then 429 with Retry-After).
         */
        get: operations["EventsController_stream"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/executions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List executions, live and finished, one page at a time (newest first by default)
         * @description One listing of live executions (pending, assigned, running: in the coordination store) and finished ones (in the execution history: PostgreSQL with FOREST_HISTORY_URL, else the coordination store), in one order behind one cursor. Order: `order=desc` (default) newest first, `order=asc` oldest first, by key time (the scheduled time; for a manual trigger, when it was triggered; a retry sorts beside its fire) then id. `from`/`to` bound the key time; `q` searches output and error (case-insensitive, literal). Paging: `limit` (1-500, default 50) and `cursor` (the `next` of the previous page, with the same filters and order). The cursor is a position, not an offset: pages neither repeat nor skip executions while new ones arrive.
         *
         *     With history in the coordination store a request reads a bounded number of finished executions: a page can then hold fewer than `limit` items and still carry `next`. Keep passing `next` as `cursor` until it is absent.
         *
         *     Items leave out params, output and the timeline, and cut `error` to 256 bytes: GET /api/executions/{id} has everything. Finished executions are deleted by retention (FOREST_EXECUTION_KEEP_PER_JOB, FOREST_EXECUTION_MAX_AGE_H, and for history in the coordination store FOREST_HISTORY_STORE_MAX_MB). A token limited to groups sees only executions of its groups.
         */
        get: operations["ExecutionsController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/executions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get an execution with its params, output and timeline
         * @description For a viewer token without revealData, params and output read "[redacted]".
         */
        get: operations["ExecutionsController_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/executions/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel an execution that has not finished
         * @description A `pending` execution leaves the queue; an `assigned` or `running` one leaves its worker's inbox, and the worker aborts its handler (the AbortSignal fires) when its next heartbeat answer says so. It becomes `cancelled` with `cancelledBy`, atomically with respect to dispatch, worker reports and the leader; it is never retried and releases its job's concurrency marker. A finished execution cannot be cancelled (409).
         */
        post: operations["ExecutionsController_cancel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/executions/{id}/logs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A page of the execution’s log lines, oldest first
         * @description The lines its handler wrote through `ctx.logger`, streamed by the worker while it ran (kept per execution up to FOREST_LOG_MAX_LINES_PER_EXECUTION / FOREST_LOG_MAX_BYTES_PER_EXECUTION; later lines are dropped). `after` (a seq) and `limit` page through them; `next` is the `after` of the next page. For a viewer without revealData each line’s text reads "[redacted]".
         */
        get: operations["ExecutionLogsController_page"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/executions/{id}/logs/follow": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Follow the execution’s log lines live until it ends (SSE)
         * @description Server-sent events (`text/event-stream`) of the execution's log lines as its handler writes them.
         *     Read it with `fetch()` and the `Authorization` header (EventSource cannot send headers).
         *
         *     - `line`: `id:` is the line's seq, `data:` the line `{seq, atMs, level, text}` (text "[redacted]" for a viewer
         *       token without revealData). Lines come oldest first, each once; those stored before the stream opened come first.
         *     - `end`: `{status, lastSeq}` once the execution is final and every stored line was sent (`status` null when
         *       the execution was deleted meanwhile); then the stream closes. A finished execution's stream sends its lines and `end` at once.
         *
         *     A comment line (`: heartbeat`) comes every 15 s. The node reads new lines every
         *     200 ms and the execution's status every 1 s. Resume with `Last-Event-ID`
         *     (the last seq received) or `after`. Each node serves at most FOREST_LOG_FOLLOW_MAX_STREAMS streams at once
         *     (then 429 with Retry-After).
         */
        get: operations["ExecutionLogsController_follow"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/groups": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List groups by name, one page at a time (a token limited to groups: those) */
        get: operations["GroupsController_list"];
        put?: never;
        /** Create a group (a named pool of workers) */
        post: operations["GroupsController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/groups/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a group */
        get: operations["GroupsController_get"];
        /** Update a group's remark */
        put: operations["GroupsController_update"];
        post?: never;
        /**
         * Delete a group; ?force=true also deletes its jobs
         * @description An empty group: operator or admin. With force (its jobs too): admin only.
         */
        delete: operations["GroupsController_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List jobs, filtered by group, state, name and dispatch strategy, one page at a time
         * @description A token limited to groups sees only the jobs of its groups.
         */
        get: operations["JobsController_list"];
        put?: never;
        /** Create a job in an existing group */
        post: operations["JobsController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a job */
        get: operations["JobsController_get"];
        /** Replace a job (absent optional fields return to their defaults) */
        put: operations["JobsController_replace"];
        post?: never;
        /** Delete a job */
        delete: operations["JobsController_delete"];
        options?: never;
        head?: never;
        /** Change some fields of a job (policy blocks merge field by field) */
        patch: operations["JobsController_patch"];
        trace?: never;
    };
    "/api/jobs/{id}/next-fires": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The job's next fire times, in UTC and in its time zone */
        get: operations["JobsController_nextFires"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs/{id}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Pause a job: it stops firing (manual triggers still work) */
        post: operations["JobsController_pause"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resume a paused job: it fires again from now on */
        post: operations["JobsController_resume"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs/{id}/trigger": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run a job now, once (also a paused job)
         * @description Creates a pending execution with trigger `manual` (scheduled time = now, attempt 1, the job's timeout) and queues it for a worker of the job's group, in one write. Any node accepts it. `params` replaces the job's params for this run only. The job's concurrency policy applies (`forbid`: 409 while one is active; `replace`: the active one is cancelled) unless `force`; its retry policy applies unless `retry: false`. The answer carries the execution id for GET /api/executions/{id}.
         */
        post: operations["JobTriggerController_trigger"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Export job definitions (all, or one group) for POST /api/jobs/import
         * @description `{version: 1, jobs: [...]}`: each job as POST /api/jobs takes it (no createdAt, updatedAt or version), sorted by id. A token limited to groups exports its groups only. For a viewer token without revealData params read "[redacted]" and the document carries `redacted: true`, which the import refuses.
         */
        get: operations["JobsController_export"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs/import": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import job definitions: validated as a whole, written all or nothing
         * @description Takes the document GET /api/jobs/export returns, with `mode`: `create` (default; every id must be new) or `upsert` (existing jobs are replaced). Every job is checked as POST /api/jobs checks it, its group must exist and ids must be unique; all problems are answered at once (400 IMPORT_INVALID, `details.problems[]` with the index of each job) and nothing is written. A valid import is written in txns of about 100 jobs, each comparing every key it writes; if one fails (a job or group changed meanwhile) the ones before are undone and the answer is 409 IMPORT_CONFLICT. While it is written, readers can see part of it; a node that dies mid-import leaves part of it (an upsert of the same document completes it).
         *
         *     Limits of this route only: a body of at most 32 MiB (or FOREST_HTTP_BODY_LIMIT if larger), 1000000 keys + items (or FOREST_JSON_MAX_KEYS if larger), 20000 jobs.
         */
        post: operations["JobsController_import"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/nodes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every live scheduler node, with a leader flag */
        get: operations["NodesController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/nodes/leader": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The current leader (any node answers) */
        get: operations["NodesController_leader"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/nodes/self": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This node's own view: does it lead, and whom does it follow */
        get: operations["NodesController_self"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/plan": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This node's plan: every active job with its previous and next fire time
         * @description Every node keeps the plan warm; only the leader fires it (`firing`). Paused jobs are not planned. Sorted by job id; page with `limit` and `cursor`. A token limited to groups sees only the jobs of its groups.
         */
        get: operations["PlanController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/plugins": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List loaded plugins
         * @description Every plugin this node loaded (built-in, FOREST_PLUGIN_PATHS, FOREST_PLUGINS) with the dispatch strategies and alert channels it provides, and the plugins skipped under FOREST_PLUGIN_ON_ERROR=skip with the reason.
         */
        get: operations["PluginsController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/schedules/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The next fire times of a cron expression in a time zone, before saving a job
         * @description Each fire is given in UTC and as wall-clock time with its offset. A local time skipped by a DST change fires after the jump; a repeated one fires once.
         */
        post: operations["SchedulesController_preview"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/stats/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Executions per minute by final status, fire lag, and what waits and runs now
         * @description Finished executions of the last `minutes` (1-1440, default 60) by final status and their fire lag (p50/p99/max of started minus scheduled time), per bucket of 1 minute (5 or 15 minutes for longer windows: at most 120 buckets), by finish time, from the execution history. `pending` and `assignedOrRunning` are counted now. A token limited to groups sees only its groups.
         */
        get: operations["StatsController_overview"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List API tokens (never their secrets), with their last use, oldest first */
        get: operations["TokensController_list"];
        put?: never;
        /**
         * Create an API token (the token is in this answer only)
         * @description The answer carries `token`, to send as `Authorization: Bearer <token>`. It is shown once: the node stores only its SHA-256. A token limited to groups creates only tokens limited to some of its groups.
         */
        post: operations["TokensController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke an API token
         * @description The token stops working at once on the node that answers, and within a few seconds (the token cache) on every other node.
         */
        delete: operations["TokensController_revoke"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/tokens/self": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The token this request carries: its name, role and group scope
         * @description What a client (the web console) shows as signed in and uses to offer only the actions the role may take. With FOREST_AUTH=off: `auth: false` and role `admin`.
         */
        get: operations["TokensController_self"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/workers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Live workers, optionally of one group
         * @description A token limited to groups sees the workers of those groups only. Never shows a worker’s session secret (nor its hash).
         */
        get: operations["WorkersController_list"];
        put?: never;
        /**
         * Register a worker: returns its id, its session secret and lease TTL
         * @description With FOREST_AUTH=on this needs a worker token of the group (or an admin token) as `Authorization: Bearer <token>`. The answer’s `sessionSecret` is shown only here: every later call of the worker (heartbeat, poll, reports, leave) sends it as `Authorization: Bearer <sessionSecret>`, with or without FOREST_AUTH. The worker then heartbeats every `heartbeatIntervalMs`; silent for `leaseTtlS` it is dead: its unstarted executions move to other workers and its running ones become `lost`.
         */
        post: operations["WorkersController_register"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/workers/{group}/{workerId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Leave: the worker stops; its unstarted work moves elsewhere */
        delete: operations["WorkersController_leave"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/workers/{group}/{workerId}/assignments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Long-poll for assignments
         * @description Returns at once the assignments newer than `after`; otherwise waits up to `waitMs` for one. A poll that waited its full time returns every assignment not yet reported `running` (delivery repeats until then): run each execution id once.
         */
        get: operations["WorkersController_poll"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/workers/{group}/{workerId}/executions/{executionId}/report": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Report one execution */
        post: operations["WorkersController_reportOne"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/workers/{group}/{workerId}/heartbeat": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Keep the worker alive (any node); learn which held executions to abort
         * @description Refreshes the worker’s lease. The optional body lists the executions the worker holds (running, or waiting for their scheduled time); the answer’s `abort` names those that are no longer its own (moved to another worker, timed out, cancelled, replaced, lost): their handlers must be aborted, waiting ones never started, and no report sent for them. An absent or empty body keeps the lease only (`abort: []`).
         */
        post: operations["WorkersController_heartbeat"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/workers/{group}/{workerId}/logs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Post handler log lines while executions run (live logs)
         * @description Only when the registration answer said `logs.enabled`. Lines carry the worker’s seq (1, 2, 3, … per execution): a resent batch stores nothing twice. Taken only for executions in this worker’s inbox (`conflict` otherwise: send no more of them), so post an execution’s last lines before its final report. Lines past the execution’s bound (FOREST_LOG_MAX_LINES_PER_EXECUTION, FOREST_LOG_MAX_BYTES_PER_EXECUTION) are counted as `dropped`. At most 1000 lines per batch and 8192 UTF-8 bytes per line (longer: 400; cut lines before sending).
         */
        post: operations["WorkerLogsController_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/workers/{group}/{workerId}/reports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Report several executions at once (running, succeeded, failed)
         * @description Each report has its own outcome; `conflict` means the execution is no longer this worker’s.
         */
        post: operations["WorkersController_reportBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness and readiness of this node
         * @description Up when the coordination store answers. 503 when it does not, and while the node shuts down (so load balancers drain it first).
         */
        get: operations["HealthController_check"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This node’s metrics, in the Prometheus text format
         * @description Scrape every node: counters are per node (fires, final statuses, HTTP requests ...), and dispatch gauges (pending, workers, slots) come from the leader only. With FOREST_AUTH=on it needs a read token (viewer, operator, admin) unless FOREST_METRICS_PUBLIC=true.
         */
        get: operations["MetricsController_scrape"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        AbortNoticeDto: {
            /** @example nightly-invoices~001795482750000 */
            executionId: string;
            /** @example cancelled through the API on node node-1 */
            reason: string;
            /**
             * @description The execution’s status now (`timed_out`, `cancelled`, `lost`, `succeeded`, ...); `moved` when it was taken back and is pending or assigned to another worker; `not_found` when there is no such execution
             * @example cancelled
             */
            status: string;
        };
        AlertDeliveryDto: {
            detail?: string;
            error?: string;
            /** @enum {string} */
            status: "delivered" | "failed";
        };
        AlertDto: {
            at: string;
            /** @enum {string} */
            event: "failed" | "timed_out" | "lost" | "retries_exhausted" | "misfire" | "no_worker" | "leader_changed" | "worker_lost";
            execution?: components["schemas"]["AlertExecutionDto"];
            id: string;
            job?: components["schemas"]["AlertJobDto"];
            message: string;
            node: string;
            /** @enum {string} */
            severity: "critical" | "warning" | "info";
            suppressed?: components["schemas"]["AlertSuppressedDto"];
            worker?: components["schemas"]["AlertWorkerDto"];
        };
        AlertExecutionDto: {
            attempt: number;
            error?: string;
            id: string;
            scheduledAt: string;
            status: string;
            worker?: string;
        };
        AlertJobDto: {
            group: string;
            id: string;
            name: string;
        };
        AlertPageDto: {
            items: components["schemas"]["RecentAlertDto"][];
            /** @description Present when older alerts follow: pass it as `cursor` */
            next?: string;
        };
        AlertsDto: {
            /**
             * @description Loaded alert channels (GET /api/plugins; built in: log, webhook, slack, email) that get this job's alerts for the events below, on top of FOREST_ALERT_DEFAULT_CHANNELS
             * @default []
             * @example [
             *       "webhook"
             *     ]
             */
            channels: string[];
            /**
             * @default [
             *       "failed",
             *       "timed_out",
             *       "lost"
             *     ]
             */
            events: ("failed" | "timed_out" | "lost" | "retries_exhausted" | "misfire" | "no_worker")[];
        };
        AlertSuppressedDto: {
            /** @description Repeats held back and summarised by this alert */
            count: number;
            since: string;
        };
        AlertsViewDto: {
            /** @example [] */
            channels: string[];
            /**
             * @example [
             *       "failed",
             *       "timed_out",
             *       "lost"
             *     ]
             */
            events: ("failed" | "timed_out" | "lost" | "retries_exhausted" | "misfire" | "no_worker")[];
        };
        AlertWorkerDto: {
            group: string;
            host: string;
            id: string;
        };
        AssignmentDto: {
            assignedAt: string;
            attempt: number;
            /** @example nightly-invoices~001795482750000 */
            executionId: string;
            group: string;
            jobId: string;
            jobName: string;
            /**
             * @example {
             *       "region": "eu"
             *     }
             */
            params: Record<string, never> | null;
            scheduledAt: string;
            scheduledMs: number;
            /** @enum {string} */
            state: "assigned" | "running";
            target: string;
            /** @description 0: no time limit */
            timeoutMs: number;
            /** @enum {string} */
            trigger: "schedule" | "manual" | "retry";
            workerId: string;
        };
        AuditEntryDto: {
            /** @example job.pause */
            action: string;
            /**
             * @description The token’s name; `anonymous (auth off)` with FOREST_AUTH=off; `unauthenticated` for a call refused for want of a valid token; `worker:{group}/{id}` for a worker’s own leave
             * @example ci-deploy
             */
            actor: string;
            /** @example 2026-11-24T01:59:30.123Z */
            at: string;
            /** @example 001795485570123-9f2c01ab */
            id: string;
            /** @example 10.0.0.7 */
            ip: string;
            /** @example POST */
            method: string;
            /** @example node-1 */
            node: string;
            /** @example job:nightly */
            object: string;
            /**
             * @description The route pattern
             * @example /api/jobs/:id/pause
             */
            route: string;
            /**
             * @description HTTP status of the answer
             * @example 200
             */
            status: number;
            /** @example tok_5f1c9a */
            tokenId?: string;
        };
        AuditPageDto: {
            items: components["schemas"]["AuditEntryDto"][];
            /** @description Present when older entries may follow: pass it as `cursor` (with the same filters). A page can hold fewer than `limit` items, even none, and still have `next`. */
            next?: string;
        };
        CancelExecutionDto: {
            /**
             * @description Why; kept in the execution's error
             * @example wrong params
             */
            reason?: string;
        };
        CancelSourceDto: {
            /**
             * @description For `replace`: the execution that replaced it; for `api`: the name of the token that cancelled it (with FOREST_AUTH=on)
             * @example nightly-invoices~001764034260000
             */
            by?: string;
            /**
             * @description `api`: cancelled through the API; `replace`: by a newer execution of the job
             * @enum {string}
             */
            kind: "api" | "replace";
            /**
             * @description The node that wrote the cancel
             * @example node-1
             */
            node: string;
            /** @example wrong params */
            reason?: string;
        };
        ChannelDeliveryDto: {
            channel: string;
            delivery: components["schemas"]["AlertDeliveryDto"];
        };
        CreatedTokenDto: {
            /** @example 2026-11-24T01:59:30.000Z */
            createdAt: string;
            /** @example admin */
            createdBy: string;
            /**
             * @example [
             *       "billing"
             *     ]
             */
            groups: string[] | null;
            /** @example k3j9x0c2mq7a */
            id: string;
            /** @example ci-deployer */
            name: string;
            revealData: boolean;
            /** @enum {string} */
            role: "admin" | "operator" | "viewer" | "worker";
            /**
             * @description The token: send it as `Authorization: Bearer <token>`. Shown only in this answer; the node keeps only its SHA-256.
             * @example fst_k3j9x0c2mq7a_bC9…
             */
            token: string;
        };
        CreateGroupDto: {
            /**
             * @description Group name, [A-Za-z0-9._-]{1,64}
             * @example billing
             */
            name: string;
            /** @example workers of the billing service */
            remark?: string;
        };
        CreateJobDto: {
            alerts?: components["schemas"]["AlertsDto"];
            /**
             * @description When a fire comes while an execution of the job is pending, assigned or running (or a retry waits for its backoff): `allow` runs both; `forbid` records the fire as `skipped` with the reason; `replace` cancels the active execution (its handler is aborted) and runs the new one. Decided atomically in the fire txn; forbid/replace fires are written when due (no lookahead). Manual triggers follow it unless they pass `force`.
             * @default allow
             * @enum {string}
             */
            concurrency: "allow" | "forbid" | "replace";
            dispatch?: components["schemas"]["DispatchDto"];
            /**
             * @description An existing group
             * @example billing
             */
            group: string;
            /**
             * @description Your own unique id, [A-Za-z0-9._-]{1,64}; the server generates one if absent
             * @example nightly-invoices
             */
            id?: string;
            misfire?: components["schemas"]["MisfireDto"];
            /** @example nightly invoice run */
            name: string;
            /**
             * @description Any JSON value handed to the handler; at most 64 KiB serialized
             * @example {
             *       "region": "eu"
             *     }
             */
            params?: Record<string, never>;
            /**
             * @default
             * @example owned by team billing
             */
            remark: string;
            retry?: components["schemas"]["RetryDto"];
            schedule: components["schemas"]["ScheduleDto"];
            /**
             * @default active
             * @enum {string}
             */
            state: "active" | "paused";
            /**
             * @description Handler name a worker of the group runs
             * @example invoices.generate
             */
            target: string;
            /**
             * @description Time limit of one attempt from its start; 0: no limit. The worker aborts the handler (its AbortSignal) at the limit; the leader marks the execution `timed_out` if no final report came within the limit plus FOREST_TIMEOUT_GRACE_MS, and retries it per `retry`.
             * @default 0
             * @example 300000
             */
            timeoutMs: number;
        };
        CreateTokenDto: {
            /**
             * @description Limit the token to these groups (absent: every group). A token limited to groups creates only tokens limited to some of them.
             * @example [
             *       "billing"
             *     ]
             */
            groups?: string[];
            /**
             * @description A label for people and the audit log: 1-64 characters of A-Z a-z 0-9 . _ @ -
             * @example ci-deployer
             */
            name: string;
            /**
             * @description For a viewer: show params and outputs (other roles always see them)
             * @default false
             */
            revealData: boolean;
            /**
             * @description admin: everything, tokens included; operator: read, trigger, pause, resume, cancel, job and group writes; viewer: read (params and outputs redacted unless revealData); worker: only registering workers of its groups
             * @enum {string}
             */
            role: "admin" | "operator" | "viewer" | "worker";
        };
        DispatchDto: {
            /**
             * @description Options for the strategy, checked by it (400 with its message), e.g. label-match's { labels: { zone: 'eu' }, strategy: 'least-busy' } or consistent-hash's { by: 'param', param: 'tenant' }
             * @default {}
             * @example {}
             */
            options: Record<string, never>;
            /**
             * @description A loaded dispatch strategy (GET /api/plugins): built in are random, round-robin, consistent-hash, least-busy, failover, broadcast, label-match. Unknown: 400 listing them.
             * @default round-robin
             * @example round-robin
             */
            strategy: string;
        };
        DispatchViewDto: {
            /** @example {} */
            options: Record<string, never>;
            /** @example round-robin */
            strategy: string;
        };
        ErrorResponseDto: {
            /**
             * @description Stable machine-readable code
             * @example VALIDATION_FAILED
             */
            code: string;
            /** @description Structured detail, e.g. one entry per invalid field */
            details?: Record<string, never>;
            /**
             * @description What went wrong and what to fix
             * @example schedule.cron: hour 25 is out of range 0-23
             */
            message: string;
            /**
             * @description HTTP status code
             * @example 400
             */
            status: number;
        };
        ExecutionDispatchDto: {
            /** @example {} */
            options: {
                [key: string]: unknown;
            };
            /** @example round-robin */
            strategy: string;
        };
        ExecutionDto: {
            /**
             * @description 1 for the first run, 2.. for retries
             * @example 1
             */
            attempt: number;
            /** @description For `cancelled`: who cancelled it */
            cancelledBy?: components["schemas"]["CancelSourceDto"];
            /** @description A misfire catch-up */
            catchUp: boolean;
            /**
             * @description The job's concurrency policy when it fired (absent: allow)
             * @enum {string}
             */
            concurrency?: "allow" | "forbid" | "replace";
            /** @description The dispatch strategy and options it was placed with (copied from the job when it fired) */
            dispatch?: components["schemas"]["ExecutionDispatchDto"];
            /** @example 2480 */
            durationMs?: number;
            /**
             * @description Why it failed or was cancelled (in a list: the first 256 bytes)
             * @example connection refused
             */
            error?: string;
            /** @example 2026-11-25T01:30:02.500Z */
            finishedAt?: string;
            /**
             * @description When it was created
             * @example 2026-11-25T01:30:00.004Z
             */
            firedAt: string;
            /** @description The node that created it */
            firedBy: components["schemas"]["FiredByDto"];
            /** @description A manual trigger that ignored the concurrency policy */
            forced?: boolean;
            /** @example billing */
            group: string;
            /**
             * @description `{jobId}~{execKey}`; the key is the scheduled epoch ms, zero-padded
             * @example nightly-invoices~001764034200000
             */
            id: string;
            /** @example nightly-invoices */
            jobId: string;
            /** @example nightly invoice run */
            jobName: string;
            /** @description Handler output (at most 64 KiB); "[redacted]" for a viewer without revealData */
            output?: string;
            /**
             * @description The params it runs with; "[redacted]" for a viewer token without revealData
             * @example {
             *       "region": "eu"
             *     }
             */
            params: Record<string, never> | null;
            /**
             * @description For a retry: not dispatched before this time (the backoff)
             * @example 2026-11-25T01:30:04.000Z
             */
            retryAt?: string;
            /**
             * @description For a retry (attempt >= 2): the attempt it retries
             * @example nightly-invoices~001764034200000
             */
            retryOf?: string;
            /** @description The job's retry policy when it fired (absent: it is not retried) */
            retryPolicy?: components["schemas"]["ExecutionRetryDto"];
            /**
             * @description The fire time it is for; for a manual trigger, when it was triggered
             * @example 2026-11-25T01:30:00.000Z
             */
            scheduledAt: string;
            /**
             * @description Scheduled time, epoch ms
             * @example 1764034200000
             */
            scheduledMs: number;
            /** @description For a broadcast: which copy this is (one execution per worker) */
            shard?: components["schemas"]["ShardDto"];
            /**
             * @description For `skipped`: why the fire did not run
             * @example execution nightly-invoices~001764034140000 is still running (concurrency forbid)
             */
            skipReason?: string;
            /** @example 2026-11-25T01:30:00.020Z */
            startedAt?: string;
            /** @enum {string} */
            status: "pending" | "assigned" | "running" | "succeeded" | "failed" | "timed_out" | "cancelled" | "lost" | "skipped";
            /** @example invoices.generate */
            target: string;
            /** @description Every status change, oldest first */
            timeline: components["schemas"]["TimelineEntryDto"][];
            /**
             * @description Time limit in ms (0: none)
             * @example 0
             */
            timeoutMs: number;
            /** @enum {string} */
            trigger: "schedule" | "manual" | "retry";
            /**
             * @description The worker it is (or was) on
             * @example worker-7f3a
             */
            worker?: string;
        };
        ExecutionLogLinesDto: {
            /** @example nightly-report~001795485570000 */
            executionId: string;
            lines: components["schemas"]["WorkerLogLineDto"][];
        };
        ExecutionPageDto: {
            items: components["schemas"]["ExecutionSummaryDto"][];
            /**
             * @description Present when more executions may follow: pass it as `cursor` (with the same filters). A page can hold fewer than `limit` items, even none, and still have `next`.
             * @example ZTE6ZXhlY3V0aW9ucy9qb2ItYS8wMDE3NjQwMzQyMDAwMDA
             */
            next?: string;
        };
        ExecutionReportDto: {
            /** @description For failed: message and stack; kept up to 64 KiB */
            error?: string;
            /** @example nightly-invoices~001795482750000 */
            executionId: string;
            /** @description Handler output; kept up to 64 KiB */
            output?: string;
            /**
             * @description When the handler started (epoch ms, the worker’s clock); the node measures the start lag from it (metrics only)
             * @example 1795482750004
             */
            startedAtMs?: number;
            /** @enum {string} */
            status: "running" | "succeeded" | "failed" | "timed_out";
        };
        ExecutionRetryDto: {
            /** @enum {string} */
            backoff: "fixed" | "exponential";
            /** @example 1000 */
            initialDelayMs: number;
            /**
             * @description Extra attempts after the first
             * @example 3
             */
            maxAttempts: number;
            /** @example 60000 */
            maxDelayMs: number;
        };
        ExecutionSummaryDto: {
            /**
             * @description 1 for the first run, 2.. for retries
             * @example 1
             */
            attempt: number;
            /** @description For `cancelled`: who cancelled it */
            cancelledBy?: components["schemas"]["CancelSourceDto"];
            /** @description A misfire catch-up */
            catchUp: boolean;
            /** @example 2480 */
            durationMs?: number;
            /**
             * @description Why it failed or was cancelled (in a list: the first 256 bytes)
             * @example connection refused
             */
            error?: string;
            /** @example 2026-11-25T01:30:02.500Z */
            finishedAt?: string;
            /**
             * @description When it was created
             * @example 2026-11-25T01:30:00.004Z
             */
            firedAt: string;
            /** @example billing */
            group: string;
            /**
             * @description `{jobId}~{execKey}`; the key is the scheduled epoch ms, zero-padded
             * @example nightly-invoices~001764034200000
             */
            id: string;
            /** @example nightly-invoices */
            jobId: string;
            /** @example nightly invoice run */
            jobName: string;
            /**
             * @description For a retry: not dispatched before this time (the backoff)
             * @example 2026-11-25T01:30:04.000Z
             */
            retryAt?: string;
            /**
             * @description For a retry (attempt >= 2): the attempt it retries
             * @example nightly-invoices~001764034200000
             */
            retryOf?: string;
            /**
             * @description The fire time it is for; for a manual trigger, when it was triggered
             * @example 2026-11-25T01:30:00.000Z
             */
            scheduledAt: string;
            /**
             * @description Scheduled time, epoch ms
             * @example 1764034200000
             */
            scheduledMs: number;
            /** @description For a broadcast: which copy this is (one execution per worker) */
            shard?: components["schemas"]["ShardDto"];
            /**
             * @description For `skipped`: why the fire did not run
             * @example execution nightly-invoices~001764034140000 is still running (concurrency forbid)
             */
            skipReason?: string;
            /** @example 2026-11-25T01:30:00.020Z */
            startedAt?: string;
            /** @enum {string} */
            status: "pending" | "assigned" | "running" | "succeeded" | "failed" | "timed_out" | "cancelled" | "lost" | "skipped";
            /** @example invoices.generate */
            target: string;
            /**
             * @description Time limit in ms (0: none)
             * @example 0
             */
            timeoutMs: number;
            /** @enum {string} */
            trigger: "schedule" | "manual" | "retry";
            /**
             * @description The worker it is (or was) on
             * @example worker-7f3a
             */
            worker?: string;
        };
        FiredByDto: {
            /** @example node-1 */
            node: string;
            /**
             * @description The leader's fencing token for a schedule fire; 0 for a manual trigger
             * @example 7
             */
            token: number;
        };
        FireLagDto: {
            /** @example 140 */
            max: number;
            /** @example 12 */
            p50: number;
            /** @example 85 */
            p99: number;
        };
        FireTimeDto: {
            /**
             * @description Wall-clock time in the zone
             * @example 2026-03-29T03:30:00
             */
            local: string;
            /**
             * @description The zone's UTC offset at that instant
             * @example +02:00
             */
            offset: string;
            /**
             * @description The instant, in UTC
             * @example 2026-03-29T01:30:00.000Z
             */
            utc: string;
        };
        FireTimesDto: {
            /** @example 0 30 2 * * * */
            cron: string;
            fires: components["schemas"]["FireTimeDto"][];
            /** @example Europe/Berlin */
            timezone: string;
        };
        GroupDto: {
            /** @example 2026-11-23T22:50:00.000Z */
            createdAt: string;
            /** @example billing */
            name: string;
            /** @example workers of the billing service */
            remark: string;
            /** @example 2026-11-23T22:50:00.000Z */
            updatedAt: string;
        };
        GroupPageDto: {
            items: components["schemas"]["GroupDto"][];
            /** @description Present when more groups follow: pass it as `cursor` */
            next?: string;
        };
        HeartbeatDto: {
            /**
             * @description Executions the worker holds: running, or received and waiting for their scheduled time. The answer lists those that are no longer its own. Absent or empty: only the lease is kept alive. At most 10000 ids.
             * @example [
             *       "nightly-invoices~001795482750000"
             *     ]
             */
            held?: string[];
        };
        HeartbeatResponseDto: {
            /** @description Held executions that are no longer this worker’s: abort the running ones, never start the waiting ones, and send no report for them (it would be refused) */
            abort: components["schemas"]["AbortNoticeDto"][];
            /** @example 10 */
            leaseTtlS: number;
        };
        ImportJobsDto: {
            jobs: components["schemas"]["CreateJobDto"][];
            /**
             * @description `create`: every job must be new (an existing id is a problem); `upsert`: an existing job is replaced (as PUT, its version goes up), a new one created
             * @default create
             * @enum {string}
             */
            mode: "create" | "upsert";
            /** @description Present (true) when params were redacted (a viewer token without revealData): such a document is refused by the import */
            redacted?: boolean;
            /**
             * @example 1
             * @enum {number}
             */
            version: 1;
        };
        ImportResultDto: {
            /** @example 118 */
            created: number;
            /** @enum {string} */
            mode: "create" | "upsert";
            /**
             * @description Jobs in the document
             * @example 120
             */
            total: number;
            /**
             * @description Txns the jobs were written in
             * @example 3
             */
            txns: number;
            /**
             * @description Existing jobs replaced (upsert)
             * @example 2
             */
            updated: number;
        };
        JobActionDto: {
            /**
             * @description The version you last read; or send If-Match
             * @example 3
             */
            version?: number;
        };
        JobDto: {
            alerts: components["schemas"]["AlertsViewDto"];
            /** @enum {string} */
            concurrency: "allow" | "forbid" | "replace";
            /** @example 2026-11-23T22:50:00.000Z */
            createdAt: string;
            dispatch: components["schemas"]["DispatchViewDto"];
            /** @example billing */
            group: string;
            /** @example nightly-invoices */
            id: string;
            misfire: components["schemas"]["MisfireViewDto"];
            /** @example nightly invoice run */
            name: string;
            /**
             * @description The job params; "[redacted]" for a viewer token without revealData
             * @example {
             *       "region": "eu"
             *     }
             */
            params: Record<string, never> | null;
            /** @example  */
            remark: string;
            retry: components["schemas"]["RetryViewDto"];
            schedule: components["schemas"]["ScheduleViewDto"];
            /** @enum {string} */
            state: "active" | "paused";
            /** @example invoices.generate */
            target: string;
            /** @example 0 */
            timeoutMs: number;
            /** @example 2026-11-23T22:50:00.000Z */
            updatedAt: string;
            /**
             * @description Send it back on updates (optimistic concurrency)
             * @example 1
             */
            version: number;
        };
        JobPageDto: {
            items: components["schemas"]["JobDto"][];
            /**
             * @description Present when more jobs follow: pass it as `cursor` (with the same filters)
             * @example cDE6am9iczpuaWdodGx5LWludm9pY2Vz
             */
            next?: string;
            /**
             * @description Jobs matching the filters, over all pages
             * @example 120
             */
            total: number;
        };
        JobsDocumentDto: {
            jobs: components["schemas"]["CreateJobDto"][];
            /** @description Present (true) when params were redacted (a viewer token without revealData): such a document is refused by the import */
            redacted?: boolean;
            /**
             * @example 1
             * @enum {number}
             */
            version: 1;
        };
        LeaderDto: {
            /**
             * @description Advertised HTTP address
             * @example http://10.0.0.5:2856
             */
            address: string;
            /**
             * @description The leader's fencing token: the create revision of its candidate key
             * @example 4711
             */
            fencingToken: number;
            /**
             * @description FOREST_NODE_ID of the node
             * @example node-1
             */
            id: string;
            /** @description Whether this node is the current leader */
            leader: boolean;
            /**
             * @description When the node process started
             * @example 2026-11-23T22:50:00.000Z
             */
            startedAt: string;
            /**
             * @description Milliseconds since startedAt, as of this answer
             * @example 93000
             */
            uptimeMs: number;
            /** @example 0.1.0 */
            version: string;
        };
        LogBatchDto: {
            /** @description At most 100 executions and 1000 lines in all */
            executions: components["schemas"]["ExecutionLogLinesDto"][];
        };
        LogBatchResponseDto: {
            results: components["schemas"]["LogBatchResultDto"][];
        };
        LogBatchResultDto: {
            /** @description Lines not kept because the execution reached FOREST_LOG_MAX_LINES_PER_EXECUTION or FOREST_LOG_MAX_BYTES_PER_EXECUTION */
            dropped: number;
            executionId: string;
            /**
             * @description conflict: the execution is not in this worker’s inbox (moved, finished, cancelled, or never its): nothing was stored, send no more of its lines
             * @enum {string}
             */
            outcome: "accepted" | "conflict";
            /** @description New lines stored (a resent line counts once, when first stored) */
            stored: number;
        };
        LogLineDto: {
            /**
             * @description When the handler wrote it (epoch ms, worker clock)
             * @example 1795485570123
             */
            atMs: number;
            /** @enum {string} */
            level: "debug" | "info" | "warn" | "error";
            /**
             * @description 1, 2, 3, … per execution, in the order written
             * @example 1
             */
            seq: number;
            /**
             * @description "[redacted]" for a viewer token without revealData
             * @example generating invoices for eu
             */
            text: string;
        };
        LogPageDto: {
            /** @description Oldest first */
            items: components["schemas"]["LogLineDto"][];
            /**
             * @description More lines follow: pass it as `after` for the next page (absent: none stored yet)
             * @example 200
             */
            next?: number;
        };
        MisfireDto: {
            /**
             * @default 3600000
             * @example 3600000
             */
            catchUpWindowMs: number;
            /**
             * @description What to do with fires missed while no leader could fire (outage, failover): skip them, fire once, or fire each one
             * @default fire_once
             * @enum {string}
             */
            policy: "skip" | "fire_once" | "fire_all";
        };
        MisfireViewDto: {
            /** @example 3600000 */
            catchUpWindowMs: number;
            /**
             * @example fire_once
             * @enum {string}
             */
            policy: "skip" | "fire_once" | "fire_all";
        };
        NodeDto: {
            /**
             * @description Advertised HTTP address
             * @example http://10.0.0.5:2856
             */
            address: string;
            /**
             * @description FOREST_NODE_ID of the node
             * @example node-1
             */
            id: string;
            /** @description Whether this node is the current leader */
            leader: boolean;
            /**
             * @description When the node process started
             * @example 2026-11-23T22:50:00.000Z
             */
            startedAt: string;
            /**
             * @description Milliseconds since startedAt, as of this answer
             * @example 93000
             */
            uptimeMs: number;
            /** @example 0.1.0 */
            version: string;
        };
        OverviewBucketDto: {
            counts: components["schemas"]["StatusCountsDto"];
            /** @description Fire lag in ms (started minus scheduled time) of the executions that ran; absent when none did */
            lagMs?: components["schemas"]["FireLagDto"];
            /**
             * @description Bucket start (by finish time)
             * @example 2026-11-24T01:59:00.000Z
             */
            start: string;
        };
        OverviewDto: {
            /**
             * @description Executions in workers' inboxes now: assigned (waiting for their time or a slot) or running
             * @example 8
             */
            assignedOrRunning: number;
            /**
             * @description Bucket size: 1 minute, coarser for long windows
             * @example 60000
             */
            bucketMs: number;
            /** @description Oldest first; the last one still fills */
            buckets: components["schemas"]["OverviewBucketDto"][];
            /**
             * @description Executions of the window that ended failed, timed_out or lost
             * @example 2
             */
            failed: number;
            /**
             * @description Start of the first bucket
             * @example 2026-11-24T01:00:00.000Z
             */
            from: string;
            /**
             * @description Executions waiting for a worker now
             * @example 3
             */
            pending: number;
            /**
             * @description End of the window (now)
             * @example 2026-11-24T02:00:00.000Z
             */
            to: string;
            /** @description Finished executions in the window */
            totals: components["schemas"]["StatusCountsDto"];
        };
        PatchJobDto: {
            alerts?: components["schemas"]["AlertsDto"];
            /**
             * @description When a fire comes while an execution of the job is pending, assigned or running (or a retry waits for its backoff): `allow` runs both; `forbid` records the fire as `skipped` with the reason; `replace` cancels the active execution (its handler is aborted) and runs the new one. Decided atomically in the fire txn; forbid/replace fires are written when due (no lookahead). Manual triggers follow it unless they pass `force`.
             * @default allow
             * @enum {string}
             */
            concurrency: "allow" | "forbid" | "replace";
            dispatch?: components["schemas"]["DispatchDto"];
            /**
             * @description An existing group
             * @example billing
             */
            group?: string;
            misfire?: components["schemas"]["MisfireDto"];
            /** @example nightly invoice run */
            name?: string;
            /**
             * @description Any JSON value handed to the handler; at most 64 KiB serialized
             * @example {
             *       "region": "eu"
             *     }
             */
            params?: Record<string, never>;
            /**
             * @default
             * @example owned by team billing
             */
            remark: string;
            retry?: components["schemas"]["RetryDto"];
            schedule?: components["schemas"]["PatchScheduleDto"];
            /**
             * @default active
             * @enum {string}
             */
            state: "active" | "paused";
            /**
             * @description Handler name a worker of the group runs
             * @example invoices.generate
             */
            target?: string;
            /**
             * @description Time limit of one attempt from its start; 0: no limit. The worker aborts the handler (its AbortSignal) at the limit; the leader marks the execution `timed_out` if no final report came within the limit plus FOREST_TIMEOUT_GRACE_MS, and retries it per `retry`.
             * @default 0
             * @example 300000
             */
            timeoutMs: number;
            /**
             * @description The version you last read; or send If-Match
             * @example 3
             */
            version?: number;
        };
        PatchScheduleDto: {
            /**
             * @description 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or a macro (@yearly @monthly @weekly @daily @hourly). Read in `timezone`. DST, for specific hours (e.g. `30 2 * * *`): a local time skipped by spring-forward fires shifted by the gap (02:30 fires at 03:30 that day); a local time repeated by fall-back fires once, on its first pass. With `*` in the hour field the schedule follows elapsed time: every hour fires, the repeated one included. See docs/schedules.md.
             * @example 0 *\/5 * * * *
             */
            cron?: string;
            /**
             * @description IANA time zone
             * @example Europe/Berlin
             */
            timezone?: string;
        };
        PlanItemDto: {
            /** @example 0 30 2 * * * */
            cron: string;
            /** @example billing */
            group: string;
            /** @example nightly-invoices */
            jobId: string;
            /** @enum {string} */
            misfirePolicy: "skip" | "fire_once" | "fire_all";
            /** @example nightly invoice run */
            name: string;
            /**
             * @description Next scheduled time (null: the schedule has no more). On the firing node it may be a moment in the past while that fire is being written.
             * @example 2026-11-25T01:30:00.000Z
             */
            nextFireAt: string | null;
            /**
             * @description Latest scheduled time fired (null: never fired)
             * @example 2026-11-24T01:30:00.000Z
             */
            previousFireAt: string | null;
            /** @example Europe/Berlin */
            timezone: string;
        };
        PlanPageDto: {
            /** @description Whether this node is the one firing the plan */
            firing: boolean;
            items: components["schemas"]["PlanItemDto"][];
            /**
             * @description The leader as this node sees it (null during an election)
             * @example node-a
             */
            leader: string | null;
            /** @description Present when more jobs follow: pass it as `cursor` (with the same filter) */
            next?: string;
            /**
             * @description The node that answered
             * @example node-a
             */
            node: string;
            /**
             * @description Planned jobs matching the filter, over all pages
             * @example 120
             */
            total: number;
        };
        PluginProvisionDto: {
            /** @enum {string} */
            kind: "dispatch-strategy" | "alert-channel";
            /**
             * @description The name jobs use
             * @example round-robin
             */
            name: string;
        };
        PluginsViewDto: {
            /**
             * @description The plugin API version this node implements
             * @example 1.0.0
             */
            apiVersion: string;
            plugins: components["schemas"]["PluginViewDto"][];
            /** @description Plugins left out under FOREST_PLUGIN_ON_ERROR=skip */
            skipped: components["schemas"]["SkippedPluginDto"][];
        };
        PluginViewDto: {
            /**
             * @description Plugin API versions it supports
             * @example ^1.0.0
             */
            compatibility: string;
            /** @example Each execution to the next worker in turn */
            description: string;
            /**
             * @description Its folder, or its npm package name
             * @example plugins/dispatch-round-robin
             */
            location: string;
            /** @example dispatch-round-robin */
            name: string;
            provides: components["schemas"]["PluginProvisionDto"][];
            /** @enum {string} */
            source: "builtin" | "path" | "package";
            /** @example 1.0.0 */
            version: string;
        };
        PollResponseDto: {
            assignments: components["schemas"]["AssignmentDto"][];
            /** @description Pass as `after` in the next poll */
            revision: number;
        };
        PreviewScheduleDto: {
            /**
             * @description Start after this instant (ISO 8601); default now
             * @example 2026-03-28T00:00:00Z
             */
            after?: string;
            /**
             * @default 5
             * @example 5
             */
            count: number;
            /**
             * @description 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or a macro (@yearly @monthly @weekly @daily @hourly). Read in `timezone`. DST, for specific hours (e.g. `30 2 * * *`): a local time skipped by spring-forward fires shifted by the gap (02:30 fires at 03:30 that day); a local time repeated by fall-back fires once, on its first pass. With `*` in the hour field the schedule follows elapsed time: every hour fires, the repeated one included. See docs/schedules.md.
             * @example 0 *\/5 * * * *
             */
            cron: string;
            /**
             * @description IANA time zone
             * @default UTC
             * @example Europe/Berlin
             */
            timezone: string;
        };
        RecentAlertDto: {
            alert: components["schemas"]["AlertDto"];
            /** @description Outcome per channel so far */
            deliveries: components["schemas"]["ChannelDeliveryDto"][];
        };
        RegisterWorkerDto: {
            /**
             * @description Most executions at once
             * @example 4
             */
            capacity: number;
            /**
             * @description The group it serves (must exist)
             * @example billing
             */
            group: string;
            /** @example billing-7f9c */
            host: string;
            /**
             * @example {
             *       "zone": "eu-1"
             *     }
             */
            labels?: Record<string, never>;
            /** @example 4242 */
            pid: number;
            /**
             * @description Handler names it can run; only jobs with one of these targets come to it
             * @example [
             *       "invoices.generate"
             *     ]
             */
            targets: string[];
        };
        RegisterWorkerResponseDto: {
            /** @example billing */
            group: string;
            /**
             * @description Heartbeat this often
             * @example 3333
             */
            heartbeatIntervalMs: number;
            /**
             * @description Silent this long, the worker is dead
             * @example 10
             */
            leaseTtlS: number;
            /** @description Whether to stream handler log lines (POST …/logs), and within which bounds */
            logs: components["schemas"]["WorkerLogPolicyDto"];
            /** @example node-1 */
            node: string;
            /**
             * @description Shown only in this answer: send it as `Authorization: Bearer <sessionSecret>` on every later call of this worker (heartbeat, poll, reports, leave). The node keeps only its SHA-256.
             * @example q0V4p2m9fYt1zXk8bH3rL6sN5wE7cA0dJ2gU4iO9yTo
             */
            sessionSecret: string;
            /**
             * @description `{host}-{random}-{lease id}`: not guessable; the lease id comes last
             * @example billing-7f9c-k3j5qz2m7xw4pd6a-7587889923
             */
            workerId: string;
        };
        ReplaceJobDto: {
            alerts?: components["schemas"]["AlertsDto"];
            /**
             * @description When a fire comes while an execution of the job is pending, assigned or running (or a retry waits for its backoff): `allow` runs both; `forbid` records the fire as `skipped` with the reason; `replace` cancels the active execution (its handler is aborted) and runs the new one. Decided atomically in the fire txn; forbid/replace fires are written when due (no lookahead). Manual triggers follow it unless they pass `force`.
             * @default allow
             * @enum {string}
             */
            concurrency: "allow" | "forbid" | "replace";
            dispatch?: components["schemas"]["DispatchDto"];
            /**
             * @description An existing group
             * @example billing
             */
            group: string;
            misfire?: components["schemas"]["MisfireDto"];
            /** @example nightly invoice run */
            name: string;
            /**
             * @description Any JSON value handed to the handler; at most 64 KiB serialized
             * @example {
             *       "region": "eu"
             *     }
             */
            params?: Record<string, never>;
            /**
             * @default
             * @example owned by team billing
             */
            remark: string;
            retry?: components["schemas"]["RetryDto"];
            schedule: components["schemas"]["ScheduleDto"];
            /**
             * @default active
             * @enum {string}
             */
            state: "active" | "paused";
            /**
             * @description Handler name a worker of the group runs
             * @example invoices.generate
             */
            target: string;
            /**
             * @description Time limit of one attempt from its start; 0: no limit. The worker aborts the handler (its AbortSignal) at the limit; the leader marks the execution `timed_out` if no final report came within the limit plus FOREST_TIMEOUT_GRACE_MS, and retries it per `retry`.
             * @default 0
             * @example 300000
             */
            timeoutMs: number;
            /**
             * @description The version you last read; or send If-Match
             * @example 3
             */
            version?: number;
        };
        ReportBatchDto: {
            reports: components["schemas"]["ExecutionReportDto"][];
        };
        ReportBatchResponseDto: {
            results: components["schemas"]["ReportResultDto"][];
        };
        ReportBodyDto: {
            /** @description For failed: message and stack; kept up to 64 KiB */
            error?: string;
            /** @description Handler output; kept up to 64 KiB */
            output?: string;
            /**
             * @description When the handler started (epoch ms, the worker’s clock); the node measures the start lag from it (metrics only)
             * @example 1795482750004
             */
            startedAtMs?: number;
            /** @enum {string} */
            status: "running" | "succeeded" | "failed" | "timed_out";
        };
        ReportResultDto: {
            executionId: string;
            message?: string;
            /**
             * @description conflict: no longer this worker’s (moved, cancelled, lost or finished): drop it
             * @enum {string}
             */
            outcome: "accepted" | "conflict" | "not_found";
        };
        RetryDto: {
            /**
             * @description `fixed`: initialDelayMs each time; `exponential`: initialDelayMs · 2^(n-1), capped by maxDelayMs; either less up to 20 % jitter
             * @default exponential
             * @enum {string}
             */
            backoff: "fixed" | "exponential";
            /**
             * @default 1000
             * @example 1000
             */
            initialDelayMs: number;
            /**
             * @description Extra attempts after a `failed`, `timed_out` or `lost` one (0: never retry). Each retry is a new execution `{first id}.r{n}` linked by `retryOf`, created in the txn that ends the previous attempt and dispatched after the backoff
             * @default 0
             * @example 3
             */
            maxAttempts: number;
            /**
             * @default 60000
             * @example 60000
             */
            maxDelayMs: number;
        };
        RetryViewDto: {
            /**
             * @example exponential
             * @enum {string}
             */
            backoff: "fixed" | "exponential";
            /** @example 1000 */
            initialDelayMs: number;
            /** @example 0 */
            maxAttempts: number;
            /** @example 60000 */
            maxDelayMs: number;
        };
        ScheduleDto: {
            /**
             * @description 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or a macro (@yearly @monthly @weekly @daily @hourly). Read in `timezone`. DST, for specific hours (e.g. `30 2 * * *`): a local time skipped by spring-forward fires shifted by the gap (02:30 fires at 03:30 that day); a local time repeated by fall-back fires once, on its first pass. With `*` in the hour field the schedule follows elapsed time: every hour fires, the repeated one included. See docs/schedules.md.
             * @example 0 *\/5 * * * *
             */
            cron: string;
            /**
             * @description IANA time zone
             * @default UTC
             * @example Europe/Berlin
             */
            timezone: string;
        };
        ScheduleViewDto: {
            /** @example 0 *\/5 * * * * */
            cron: string;
            /** @example UTC */
            timezone: string;
        };
        SelfDto: {
            /**
             * @description This node's fencing token while it leads
             * @example 4711
             */
            fencingToken?: number;
            /** @example node-1 */
            id: string;
            /** @description Whether this node believes it leads (and holds a valid token) */
            leader: boolean;
            /**
             * @description The leader as this node sees it
             * @example node-2
             */
            leaderId?: string;
        };
        ShardDto: {
            /**
             * @description 0..total-1
             * @example 0
             */
            index: number;
            /**
             * @description How many workers the broadcast went to
             * @example 3
             */
            total: number;
        };
        SkippedPluginDto: {
            location: string;
            /** @description Why it was not loaded */
            reason: string;
            /** @enum {string} */
            source: "builtin" | "path" | "package";
        };
        StatusCountsDto: {
            /** @example 0 */
            cancelled: number;
            /** @example 2 */
            failed: number;
            /** @example 0 */
            lost: number;
            /**
             * @description Fires of a busy `forbid` job
             * @example 1
             */
            skipped: number;
            /** @example 57 */
            succeeded: number;
            /** @example 0 */
            timed_out: number;
        };
        TimelineEntryDto: {
            /** @example 2026-11-24T01:30:00.004Z */
            at: string;
            /**
             * @description The node that made the change
             * @example node-1
             */
            node: string;
            /** @enum {string} */
            status: "pending" | "assigned" | "running" | "succeeded" | "failed" | "timed_out" | "cancelled" | "lost" | "skipped";
            /** @example worker-7f3a */
            worker?: string;
        };
        TokenDto: {
            /** @example 2026-11-24T01:59:30.000Z */
            createdAt: string;
            /**
             * @description Name of the token that created it
             * @example admin
             */
            createdBy: string;
            /**
             * @description The groups it is limited to; null: every group
             * @example [
             *       "billing"
             *     ]
             */
            groups: string[] | null;
            /** @example k3j9x0c2mq7a */
            id: string;
            /**
             * @description Last successful use (updated at most once a minute); null: never used
             * @example 2026-11-24T02:10:00.000Z
             */
            lastUsedAt: string | null;
            /** @example ci-deployer */
            name: string;
            /** @description A viewer that sees params and outputs */
            revealData: boolean;
            /** @enum {string} */
            role: "admin" | "operator" | "viewer" | "worker";
        };
        TokenPageDto: {
            items: components["schemas"]["TokenDto"][];
            /** @description Present when more tokens follow: pass it as `cursor` */
            next?: string;
        };
        TokenSelfDto: {
            /** @description Whether the node requires tokens (FOREST_AUTH=on) */
            auth: boolean;
            /**
             * @description The groups it is limited to; null: every group
             * @example [
             *       "billing"
             *     ]
             */
            groups: string[] | null;
            /**
             * @description The token id (absent with auth off)
             * @example k3j9x0c2mq7a
             */
            id?: string;
            /**
             * @description The token name, or `anonymous (auth off)`
             * @example ci-deployer
             */
            name: string;
            /** @description Whether params and outputs are shown to it unredacted */
            revealData: boolean;
            /**
             * @description The token role; with auth off every caller may do everything: `admin`
             * @enum {string}
             */
            role: "admin" | "operator" | "viewer" | "worker";
        };
        TriggerJobDto: {
            /**
             * @description Run even if the job has concurrency `forbid` and an execution is active, or without cancelling the active one under `replace`. Ignored for `allow` jobs.
             * @default false
             */
            force: boolean;
            /**
             * @description Any JSON value handed to the handler instead of the job's params, for this run only; at most 64 KiB serialized. Absent: the job params.
             * @example {
             *       "region": "us"
             *     }
             */
            params?: Record<string, never>;
            /**
             * @description false: this run is not retried even if the job's retry policy says so
             * @default true
             */
            retry: boolean;
        };
        UpdateGroupDto: {
            /** @example workers of the billing service */
            remark: string;
        };
        WorkerDto: {
            capacity: number;
            group: string;
            host: string;
            id: string;
            /**
             * @example {
             *       "zone": "eu-1"
             *     }
             */
            labels: Record<string, never>;
            /** @description When its lease was last refreshed (a heartbeat), to the second: derived from the lease’s time to live. Absent when the lease just expired */
            lastHeartbeatAt?: string;
            /** @description Set when it asked to leave */
            leavingAt?: string;
            /** @description What it holds now; running out of `capacity` slots */
            load: components["schemas"]["WorkerLoadDto"];
            /** @description The node it registered through */
            node: string;
            pid: number;
            registeredAt: string;
            targets: string[];
        };
        WorkerLoadDto: {
            /** @description Executions in its inbox not yet reported running */
            assigned: number;
            /** @description Executions it reported running and has not finished */
            running: number;
        };
        WorkerLogLineDto: {
            /**
             * @description When the handler wrote it (epoch ms)
             * @example 1795485570123
             */
            atMs: number;
            /** @enum {string} */
            level: "debug" | "info" | "warn" | "error";
            /**
             * @description 1, 2, 3, … per execution; a resent line keeps its seq and is stored once
             * @example 1
             */
            seq: number;
            /**
             * @description At most 8192 UTF-8 bytes (longer: 400; the SDK cuts lines before sending)
             * @example generating invoices for eu
             */
            text: string;
        };
        WorkerLogPolicyDto: {
            /** @description The node keeps execution logs: stream handler log lines to POST …/logs. False: send none (on etcd without FOREST_HISTORY_URL logs are not kept) */
            enabled: boolean;
            /**
             * @description FOREST_LOG_MAX_BYTES_PER_EXECUTION
             * @example 1048576
             */
            maxBytesPerExecution: number;
            /**
             * @description Longest line text in UTF-8 bytes: cut longer lines before sending
             * @example 8192
             */
            maxLineBytes: number;
            /**
             * @description Most lines in one batch
             * @example 1000
             */
            maxLinesPerBatch: number;
            /**
             * @description FOREST_LOG_MAX_LINES_PER_EXECUTION
             * @example 10000
             */
            maxLinesPerExecution: number;
        };
        WorkerPageDto: {
            items: components["schemas"]["WorkerDto"][];
            /** @description Present when more workers follow: pass it as `cursor` */
            next?: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    AlertsController_list: {
        parameters: {
            query?: {
                /** @description The `next` of the previous page (opaque); send the same filters with it */
                cursor?: string;
                /** @description Items per page */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AlertPageDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    AuditController_list: {
        parameters: {
            query?: {
                /** @description Only this action; a trailing `*` matches a prefix (`job.*`) */
                action?: string;
                /** @description Only entries of this actor (a token name, or `anonymous (auth off)`) */
                actor?: string;
                /** @description The `next` of the previous page (opaque); send the same filters with it */
                cursor?: string;
                /** @description Entries at or after this time */
                from?: string;
                limit?: number;
                /** @description Only this object; a trailing `*` matches a prefix (`job:*`) */
                object?: string;
                /** @description Entries at or before this time */
                to?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditPageDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    EventsController_stream: {
        parameters: {
            query?: {
                /** @description Only executions and workers of this group (node events are not filtered) */
                group?: string;
                /** @description Only this job's executions (node and worker events are not filtered) */
                jobId?: string;
                /** @description Comma-separated event types to send (execution, node, worker); default: all */
                types?: string;
            };
            header?: {
                /** @description The last event id received: resume right after it */
                "last-event-id"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An open `text/event-stream` (see above) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description This node serves FOREST_EVENTS_MAX_STREAMS streams already; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    ExecutionsController_list: {
        parameters: {
            query?: {
                /** @description Only the attempts of the fire this execution belongs to (any of its attempts), attempt 1 first */
                attemptsOf?: string;
                /** @description The `next` of the previous page (opaque); send the same filters with it */
                cursor?: string;
                /** @description Scheduled at or after this ISO time */
                from?: string;
                group?: string;
                /** @description Only this job's executions (reads only that job's keys: the fast way) */
                jobId?: string;
                /** @description Items per page */
                limit?: number;
                /** @description `desc`: newest first (the default); `asc`: oldest first */
                order?: "desc" | "asc";
                /** @description Free-text search: executions whose output or error contains this text (case-insensitive, taken literally) */
                q?: string;
                status?: "pending" | "assigned" | "running" | "succeeded" | "failed" | "timed_out" | "cancelled" | "lost" | "skipped";
                /** @description Scheduled at or before this ISO time */
                to?: string;
                trigger?: "schedule" | "manual" | "retry";
                /** @description Assigned (or last assigned) worker */
                worker?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExecutionPageDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    ExecutionsController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExecutionDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description EXECUTION_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    ExecutionsController_cancel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CancelExecutionDto"];
            };
        };
        responses: {
            /** @description The cancelled execution */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExecutionDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description EXECUTION_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description EXECUTION_NOT_CANCELLABLE: it already finished (details.status); EXECUTION_BUSY: it kept changing while this request ran, retry */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    ExecutionLogsController_page: {
        parameters: {
            query?: {
                /** @description Only lines with a greater seq (`Last-Event-ID`, when sent, takes precedence) */
                after?: number;
                /** @description Lines per page */
                limit?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LogPageDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description EXECUTION_NOT_FOUND (also for an execution of a group outside the token’s) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description LOGS_NOT_KEPT: this node keeps no execution logs (etcd without FOREST_HISTORY_URL) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    ExecutionLogsController_follow: {
        parameters: {
            query?: {
                /** @description Only lines with a greater seq (`Last-Event-ID`, when sent, takes precedence) */
                after?: number;
            };
            header?: {
                /** @description The last seq received: resume right after it (takes precedence over `after`) */
                "last-event-id"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An open `text/event-stream` (see above) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description EXECUTION_NOT_FOUND (also for an execution of a group outside the token’s) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description LOGS_NOT_KEPT: this node keeps no execution logs (etcd without FOREST_HISTORY_URL) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description This node serves FOREST_LOG_FOLLOW_MAX_STREAMS streams already; see Retry-After */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    GroupsController_list: {
        parameters: {
            query?: {
                /** @description The `next` of the previous page (opaque); send the same filters with it */
                cursor?: string;
                /** @description Items per page */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GroupPageDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    GroupsController_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateGroupDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GroupDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description GROUP_OUT_OF_SCOPE: the token is limited to other groups */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description GROUP_EXISTS */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    GroupsController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GroupDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    GroupsController_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateGroupDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GroupDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    GroupsController_delete: {
        parameters: {
            query?: {
                /** @description Also delete the jobs of the group (otherwise a group with jobs is 409) */
                force?: "true" | "false";
            };
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description FORBIDDEN: force=true needs an admin token */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description GROUP_NOT_EMPTY: the group has jobs and force is not set */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_list: {
        parameters: {
            query?: {
                /** @description The `next` of the previous page (opaque); send the same filters with it */
                cursor?: string;
                group?: string;
                /** @description Items per page */
                limit?: number;
                /** @description Case-insensitive substring of the name */
                name?: string;
                state?: "active" | "paused";
                /** @description Dispatch strategy, exactly */
                strategy?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobPageDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateJobDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description GROUP_OUT_OF_SCOPE: the token is limited to other groups than the one named */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description JOB_EXISTS: the given id is taken */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_replace: {
        parameters: {
            query?: never;
            header?: {
                /** @description The job version you last read (alternative to "version" in the body) */
                "if-match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReplaceJobDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description GROUP_OUT_OF_SCOPE: the token is limited to other groups than the one named */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description VERSION_CONFLICT: the job changed since you read it; details.currentVersion has the current version */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_patch: {
        parameters: {
            query?: never;
            header?: {
                /** @description The job version you last read (alternative to "version" in the body) */
                "if-match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PatchJobDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description GROUP_OUT_OF_SCOPE: the token is limited to other groups than the one named */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description VERSION_CONFLICT: the job changed since you read it; details.currentVersion has the current version */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_nextFires: {
        parameters: {
            query?: {
                count?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FireTimesDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_pause: {
        parameters: {
            query?: never;
            header?: {
                /** @description The job version you last read (alternative to "version" in the body) */
                "if-match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["JobActionDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description VERSION_CONFLICT: the job changed since you read it; details.currentVersion has the current version */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_resume: {
        parameters: {
            query?: never;
            header?: {
                /** @description The job version you last read (alternative to "version" in the body) */
                "if-match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["JobActionDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description VERSION_CONFLICT: the job changed since you read it; details.currentVersion has the current version */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobTriggerController_trigger: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["TriggerJobDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExecutionDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description JOB_ACTIVE: the job has concurrency `forbid` and an execution of it is active (details.activeExecution; pass `force: true` to run anyway); JOB_BUSY: the job kept changing while it was being triggered, retry */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_export: {
        parameters: {
            query?: {
                /** @description Only the jobs of this group */
                group?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobsDocumentDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    JobsController_import: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ImportJobsDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ImportResultDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description GROUP_OUT_OF_SCOPE: the token is limited to other groups than the one named */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description IMPORT_CONFLICT: jobs or groups changed while the import was written; undone */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    NodesController_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeDto"][];
                };
            };
        };
    };
    NodesController_leader: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LeaderDto"];
                };
            };
            /** @description NO_LEADER: an election is under way */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    NodesController_self: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SelfDto"];
                };
            };
        };
    };
    PlanController_list: {
        parameters: {
            query?: {
                /** @description The `next` of the previous page (opaque); send the same filters with it */
                cursor?: string;
                /** @description Only jobs of this group */
                group?: string;
                /** @description Items per page */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PlanPageDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    PluginsController_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PluginsViewDto"];
                };
            };
        };
    };
    SchedulesController_preview: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PreviewScheduleDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FireTimesDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    StatsController_overview: {
        parameters: {
            query?: {
                /** @description The window: the last this many minutes */
                minutes?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OverviewDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    TokensController_list: {
        parameters: {
            query?: {
                /** @description The `next` of the previous page (opaque); send the same filters with it */
                cursor?: string;
                /** @description Items per page */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPageDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    TokensController_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateTokenDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedTokenDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description GROUP_OUT_OF_SCOPE */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    TokensController_revoke: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description TOKEN_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    TokensController_self: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenSelfDto"];
                };
            };
        };
    };
    WorkersController_list: {
        parameters: {
            query?: {
                /** @description The `next` of the previous page (opaque); send the same filters with it */
                cursor?: string;
                group?: string;
                /** @description Items per page */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WorkerPageDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    WorkersController_register: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RegisterWorkerDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RegisterWorkerResponseDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description UNAUTHENTICATED: FOREST_AUTH=on and no valid token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description FORBIDDEN: the token’s role may not register workers (only worker and admin tokens); GROUP_OUT_OF_SCOPE: the token is limited to other groups */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Not found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    WorkersController_leave: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                group: string;
                workerId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_UNAUTHENTICATED: no `Authorization: Bearer <sessionSecret>` (the secret its registration returned); nothing changed */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_FORBIDDEN: the session secret is not this worker’s (another worker’s, or wrong); nothing changed */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_NOT_FOUND: the worker’s lease expired or it left: register again */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    WorkersController_poll: {
        parameters: {
            query?: {
                /** @description The `revision` of the previous poll: only newer assignments return at once */
                after?: number;
                max?: number;
                waitMs?: number;
            };
            header?: never;
            path: {
                group: string;
                workerId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PollResponseDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_UNAUTHENTICATED: no `Authorization: Bearer <sessionSecret>` (the secret its registration returned); nothing changed */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_FORBIDDEN: the session secret is not this worker’s (another worker’s, or wrong); nothing changed */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_NOT_FOUND: the worker’s lease expired or it left: register again */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    WorkersController_reportOne: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                executionId: string;
                group: string;
                workerId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReportBodyDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReportResultDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_UNAUTHENTICATED: no `Authorization: Bearer <sessionSecret>` (the secret its registration returned); nothing changed */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_FORBIDDEN: the session secret is not this worker’s (another worker’s, or wrong); nothing changed */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_NOT_FOUND (register again) or EXECUTION_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description EXECUTION_NOT_YOURS: it was moved, cancelled, declared lost or finished */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    WorkersController_heartbeat: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                group: string;
                workerId: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["HeartbeatDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HeartbeatResponseDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_UNAUTHENTICATED: no `Authorization: Bearer <sessionSecret>` (the secret its registration returned); nothing changed */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_FORBIDDEN: the session secret is not this worker’s (another worker’s, or wrong); nothing changed */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_NOT_FOUND: the worker’s lease expired or it left: register again */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    WorkerLogsController_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                group: string;
                workerId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LogBatchDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LogBatchResponseDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_UNAUTHENTICATED: no `Authorization: Bearer <sessionSecret>` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_FORBIDDEN: the session secret is not this worker’s */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_NOT_FOUND: the worker’s lease expired or it left: register again */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description LOGS_NOT_KEPT: this node keeps no execution logs (etcd without FOREST_HISTORY_URL) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    WorkersController_reportBatch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                group: string;
                workerId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReportBatchDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReportBatchResponseDto"];
                };
            };
            /** @description Invalid input: the message names each field and what to fix */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_UNAUTHENTICATED: no `Authorization: Bearer <sessionSecret>` (the secret its registration returned); nothing changed */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_FORBIDDEN: the session secret is not this worker’s (another worker’s, or wrong); nothing changed */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description WORKER_NOT_FOUND: the worker’s lease expired or it left: register again */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description Too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
            /** @description The coordination store or the leader is unavailable; retry shortly */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"];
                };
            };
        };
    };
    HealthController_check: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Health Check is successful */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @example {
                         *       "database": {
                         *         "status": "up"
                         *       }
                         *     }
                         */
                        details?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        };
                        /** @example {} */
                        error?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        /**
                         * @example {
                         *       "database": {
                         *         "status": "up"
                         *       }
                         *     }
                         */
                        info?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        /** @example ok */
                        status?: string;
                    };
                };
            };
            /** @description The Health Check is not successful */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @example {
                         *       "database": {
                         *         "status": "up"
                         *       },
                         *       "redis": {
                         *         "status": "down",
                         *         "message": "Could not connect"
                         *       }
                         *     }
                         */
                        details?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        };
                        /**
                         * @example {
                         *       "redis": {
                         *         "status": "down",
                         *         "message": "Could not connect"
                         *       }
                         *     }
                         */
                        error?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        /**
                         * @example {
                         *       "database": {
                         *         "status": "up"
                         *       }
                         *     }
                         */
                        info?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        /** @example error */
                        status?: string;
                    };
                };
            };
        };
    };
    MetricsController_scrape: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text format 0.0.4 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain; version=0.0.4; charset=utf-8": string;
                };
            };
        };
    };
}
