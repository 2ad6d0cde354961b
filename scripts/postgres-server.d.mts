export declare const TEST_PASSWORD: string;
export interface PostgresServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  pgCtl(args: readonly string[]): string;
  stop(): void;
}
export declare function startPostgres(options?: { dir?: string; durable?: boolean }): Promise<PostgresServer>;
export declare function pgCtl(dir: string, args: readonly string[]): string;
