/** The extension's settings and folders as the other host modules read them (one place, no state). */
import { basename, dirname, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { RUN_FILES } from '../core/train/run';
import { isTorchSpecPath, readTorchSpec, torchSpecLabel } from '../core/torch/model-spec';
import { ENGINE_NAMES, type EngineName } from '../core/engine/types';
import { isInside } from './runs';
import { trainDefaultsFrom, type TrainDefaults } from './train-picks';
import { clampRate } from './webview-channel';

export class HostSettings {
  constructor(readonly context: vscode.ExtensionContext) {}

  config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('rnnMemory');
  }

  liveRate(): number {
    return clampRate(this.config().get<number>('liveUpdateRate'));
  }

  engine(): EngineName {
    const v = this.config().get<string>('engine');
    return (ENGINE_NAMES as readonly string[]).includes(v ?? '') ? (v as EngineName) : 'fast';
  }

  trainDefaults(): TrainDefaults {
    const c = vscode.workspace.getConfiguration('rnnMemory.train');
    return trainDefaultsFrom((k) => c.get(k));
  }

  workspaceRoot(): string | undefined {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  /** The runs folder: rnnMemory.runsFolder relative to the first workspace folder (global storage without one). */
  runsDir(): string {
    const setting = (this.config().get<string>('runsFolder') || 'runs').trim();
    if (isAbsolute(setting)) return setting;
    return join(this.workspaceRoot() ?? this.context.globalStorageUri.fsPath, setting);
  }

  /** A short name: the run id for runs/<id>/model.safetensors, FILE.py:NAME (weights) for a PyTorch model, else the file name. */
  modelName(path: string): string {
    if (isTorchSpecPath(path)) {
      try {
        return torchSpecLabel(readTorchSpec(path));
      } catch {
        return basename(path);
      }
    }
    if (basename(path) === RUN_FILES.model && isInside(path, this.runsDir())) return basename(dirname(path));
    return basename(path);
  }
}
