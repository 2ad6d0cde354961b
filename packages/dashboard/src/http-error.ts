/** A request the dashboard refuses: its status (4xx) and a one-line reason shown to the user. */
export class DashboardHttpError extends Error {
  override readonly name = "DashboardHttpError";
  readonly code = "ERR_DASHBOARD_REQUEST";
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 429;
  constructor(status: DashboardHttpError["status"], message: string) {
    super(message);
    this.status = status;
  }
}
