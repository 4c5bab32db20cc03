// Starts `scimult lsp` (the SciMult Desktop language server) over stdio for LaTeX,
// Markdown, Quarto and plain-text files. Everything runs locally: the server only reads
// the library and opens no network connection.
import * as os from 'os';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';

/** The language ids served; package.json's activationEvents list the same ones. */
export const LANGUAGES = ['latex', 'tex', 'markdown', 'quarto', 'plaintext'];

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand('scimult.restartServer', restart),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('scimult')) {
        void restart();
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

/** `<command> [--library DIR] lsp`, from the `scimult.*` settings. */
export function serverCommand(settings: vscode.WorkspaceConfiguration): { command: string; args: string[] } {
  const command = expandHome(settings.get<string>('command', 'scimult').trim() || 'scimult');
  const library = expandHome(settings.get<string>('library', '').trim());
  // --library goes before the subcommand: it is an option of `scimult` itself.
  const args = library ? ['--library', library, 'lsp'] : ['lsp'];
  return { command, args };
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? os.homedir() + path.slice(1) : path;
}

async function start(): Promise<void> {
  const { command, args } = serverCommand(vscode.workspace.getConfiguration('scimult'));
  const serverOptions: ServerOptions = { command, args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
  };
  client = new LanguageClient('scimult', 'SciMult citations', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    void vscode.window.showErrorMessage(
      `SciMult: could not start '${command} ${args.join(' ')}' (${String(error)}). ` +
        'Set "scimult.command" to the full path of the scimult program.',
    );
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    await running.stop();
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}
