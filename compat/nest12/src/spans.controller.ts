import { Controller, Get } from '@nestjs/common';
import { spanExporter } from './telemetry.js';

/** The finished spans, for the packaging suite (a real app would export them). */
@Controller('test')
export class SpansController {
  @Get('spans')
  spans() {
    return spanExporter.getFinishedSpans().map((s) => ({
      name: s.name,
      kind: s.kind,
      traceId: s.spanContext().traceId,
      status: s.status,
      attributes: s.attributes,
    }));
  }
}
