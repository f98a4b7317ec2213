// The capture RPCs (ListCaptures, GetCapture, DeleteCapture) over the store; without a store (no capture.dir)
// each says how to get one.
import { noCaptureStore } from "../../common/errors.js";
import type {
  DeleteCaptureRequest,
  DeleteCaptureResponse,
  GetCaptureRequest,
  GetCaptureResponse,
  ListCapturesRequest,
  ListCapturesResponse,
} from "../../proto/index.js";
import type { CaptureStore } from "./store.js";

export interface CaptureService {
  listCaptures(req: ListCapturesRequest): Promise<ListCapturesResponse>;
  getCapture(req: GetCaptureRequest, o?: { signal?: AbortSignal }): AsyncIterable<GetCaptureResponse>;
  deleteCapture(req: DeleteCaptureRequest): Promise<DeleteCaptureResponse>;
}

export function captureService(host: string, store: CaptureStore | undefined, why = "this gopsd keeps none (start it with --capture-dir DIR)"): CaptureService {
  const need = (): CaptureStore => {
    if (store === undefined) throw noCaptureStore(why);
    return store;
  };
  return {
    async listCaptures() {
      const s = need();
      await s.sweep();
      return { host, captures: s.list() };
    },
    async *getCapture(req, o = {}) {
      yield* need().read(req.id, o.signal);
    },
    async deleteCapture(req) {
      await need().delete(req.id);
      return {};
    },
  };
}
