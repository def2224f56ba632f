"""The local streaming runner: Beam's Python direct runner, made to run our pipeline.

`DirectRunner` picks the FnApiRunner for any pipeline it thinks it can batch,
and that one runs stage by stage: a never-ending Kafka read would never hand
anything to the sink. The bundle-based Python direct runner does stream, but in
Beam 2.77 it fails on splittable DoFns in streaming mode: its override list
re-expands the SDF's GroupByKey after the streaming GroupByKey override ran
("... was not replaced as expected"). Applying the overrides once before the
runner applies (and checks) them again fixes the order; nothing else changes.
Second, its serial work queue (stateful DoFns, the SDF) is a stack: under a
steady stream of new bundles the oldest, which hold the data, starve until the
input stops; `_fifo_update` makes it a queue. Third, its checkpointing of a running splittable DoFn still expects the old
`try_split` result (primary, residual restriction) while the SDK now returns
SplitResultResidual objects: `_CheckpointingInvoker` translates. Cluster runners
(Flink, Dataflow) are untouched by this module.
"""
from __future__ import annotations

import threading
import time

from apache_beam.runners.direct import executor, transform_evaluator
from apache_beam.runners.direct.sdf_direct_runner import SDFProcessElementInvoker
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner, _get_transform_overrides

NAMES = ("local", "DirectRunner", "BundleBasedDirectRunner")


# The runner checkpoints a splittable DoFn's process() after this many seconds; the
# Kafka source keeps polling until then, so it is the source's batching latency.
CHECKPOINT_SECONDS = 0.1
# Worker threads of the local executor (Beam's default is 1, which the Kafka reads monopolise).
WORKERS = 1


def _residual_restriction(split):
    if not split:
        return split
    primaries, residuals = split
    if residuals and hasattr(residuals[0], "residual_value"):
        # residual_value.value == ((element, (restriction, watermark_state)), size)
        (_element, (restriction, _wm)), _size = residuals[0].residual_value.value
        return primaries, restriction
    return split


class _CheckpointingInvoker(SDFProcessElementInvoker):
    """SDFProcessElementInvoker.invoke_process_element with the split result translated."""

    def invoke_process_element(self, sdf_invoker, output_processor, element, restriction,
                               watermark_estimator_state, *args, **kwargs):
        state = {"taken": False, "residual": None}
        lock = threading.Lock()

        def checkpoint():
            with lock:
                if state["taken"]:
                    return
                state["taken"] = True
            split = _residual_restriction(sdf_invoker.try_split(0))
            if split:
                state["residual"] = split[1]
            else:
                state["taken"] = False  # nothing to split (yet): allow another attempt

        output_processor.reset()
        timer = threading.Timer(self._max_duration, checkpoint)
        timer.start()
        try:
            sdf_invoker.invoke_process(element, additional_args=args, restriction=restriction,
                                       watermark_estimator_state=watermark_estimator_state)
        finally:
            timer.cancel()
        count = 0
        for output in output_processor.output_iter or ():
            yield output
            count += 1
            if self._max_num_outputs and count >= self._max_num_outputs:
                checkpoint()
        residual = state["residual"]
        yield (SDFProcessElementInvoker.Result(residual_restriction=residual) if residual
               else SDFProcessElementInvoker.Result())


def _fifo_update(self, new_work, completed_work):
    """executor._SerialEvaluationState._update_currently_evaluating, first in first out."""
    with self._lock:
        if new_work:
            self.serial_queue.append(new_work)
        if completed_work:
            assert self.currently_evaluating == completed_work
            self.currently_evaluating = None
        if self.serial_queue and not self.currently_evaluating:
            next_work = self.serial_queue.popleft()
            self.currently_evaluating = next_work
            executor._TransformEvaluationState.schedule(self, next_work)


_original_should_shutdown = executor._ExecutorServiceParallelExecutor._MonitorTask._should_shutdown


def _patient_should_shutdown(self) -> bool:
    """With more than one worker the monitor can look while nothing happens to be
    scheduled, and would call a streaming pipeline "stalled": wait instead, unless done."""
    if not self._is_executing() and not self._executor.evaluation_context.is_done():
        time.sleep(0.005)
        return False
    return _original_should_shutdown(self)


class LocalStreamingRunner(BundleBasedDirectRunner):
    def run_pipeline(self, pipeline, options):
        transform_evaluator._ProcessElementsEvaluator.DEFAULT_MAX_DURATION = CHECKPOINT_SECONDS
        transform_evaluator.SDFProcessElementInvoker = _CheckpointingInvoker
        # one worker thread would spend nearly all its time re-invoking the Kafka reads
        executor._SerialEvaluationState._update_currently_evaluating = _fifo_update
        executor._ExecutorServiceParallelExecutor.NUM_WORKERS = WORKERS
        executor._ExecutorServiceParallelExecutor._MonitorTask._should_shutdown = _patient_should_shutdown
        for override in _get_transform_overrides(options):
            pipeline._replace(override)
        return super().run_pipeline(pipeline, options)
