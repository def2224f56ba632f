"""The local streaming runner: Beam's Python direct runner, made to run our pipeline.

`DirectRunner` picks the FnApiRunner for any pipeline it thinks it can batch, and
that one runs stage by stage: a never-ending Kafka read would never hand anything
to the sink. The bundle-based Python direct runner does stream, but Beam 2.77 needs
five fixes for this pipeline (found by running it; each is small and local):

1. its override list re-expands the splittable DoFn's GroupByKey after the streaming
   GroupByKey override ran ("... was not replaced as expected"): applying the
   overrides once before the runner applies (and checks) them again fixes the order;
2. its serial work queue (stateful DoFns, the SDF) is a stack: under a steady stream
   of new bundles the oldest, which hold the data, starve until the input stops;
   `_fifo_update` makes it a queue;
3. its checkpointing of a running splittable DoFn expects the old `try_split` result
   (primary, residual restriction) while the SDK returns SplitResultResidual objects:
   `_CheckpointingInvoker` translates.

4. every bundle a transform produces is handed to its consumers even when it is empty,
   and the source produces one per checkpoint (CHECKPOINT_SECONDS): a cascade of empty
   bundles through every stage that the serial queue of the sink (a stateful DoFn)
   could not keep up with, so records read while running waited there until a drain.
   `_commit_non_empty` drops empty output bundles (no elements: nothing to deliver;
   watermarks advance through the producer's output watermark all the same).

5. it sets up every DoFn anew for every bundle and introspects it each time (state and
   timer specs, method signatures through `inspect`): with the many small bundles of a
   live stream that was about half of the worker's time. `_cache_introspection`
   memoises both per DoFn class / function (they depend on the code, not the instance).

It runs with one worker thread (Beam's default; more threads race in its state
handling). Cluster runners (Flink, Dataflow) are untouched by this module.
"""
from __future__ import annotations

import threading

from apache_beam.runners.direct import evaluation_context, executor, transform_evaluator
from apache_beam.runners.direct.sdf_direct_runner import SDFProcessElementInvoker
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner, _get_transform_overrides

NAMES = ("local", "DirectRunner", "BundleBasedDirectRunner")


# The runner checkpoints a splittable DoFn's process() after this many seconds; the
# Kafka source keeps polling until then, so it is the source's batching latency.
CHECKPOINT_SECONDS = 0.01


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


_commit_bundles = evaluation_context.EvaluationContext._commit_bundles


def _commit_non_empty(self, uncommitted_bundles, unprocessed_bundles):
    """EvaluationContext._commit_bundles for the bundles that hold elements."""
    return _commit_bundles(self, [b for b in uncommitted_bundles if b.has_elements()], unprocessed_bundles)


def _cache_introspection() -> None:
    import types

    from apache_beam.transforms import core, userstate
    if getattr(userstate, "_archiefstroom_cached", False):
        return
    specs_of, args_of = userstate.get_dofn_specs, core.get_function_args_defaults
    specs: dict = {}
    args: dict = {}

    def get_dofn_specs(dofn):
        key = type(dofn)
        if key not in specs:
            specs[key] = specs_of(dofn)
        return specs[key]

    def is_stateful_dofn(dofn) -> bool:
        state, timers = get_dofn_specs(dofn)
        return bool(state or timers)

    def get_function_args_defaults(f):
        if not isinstance(f, (types.FunctionType, types.MethodType)):
            return args_of(f)
        key = (getattr(f, "__func__", f), isinstance(f, types.MethodType))
        if key not in args:
            args[key] = args_of(f)
        names, defaults = args[key]
        return list(names), list(defaults)

    for module in (userstate, transform_evaluator):
        module.get_dofn_specs = get_dofn_specs
        module.is_stateful_dofn = is_stateful_dofn
    core.get_function_args_defaults = get_function_args_defaults
    userstate._archiefstroom_cached = True


class LocalStreamingRunner(BundleBasedDirectRunner):
    def run_pipeline(self, pipeline, options):
        transform_evaluator._ProcessElementsEvaluator.DEFAULT_MAX_DURATION = CHECKPOINT_SECONDS
        transform_evaluator.SDFProcessElementInvoker = _CheckpointingInvoker
        # one worker thread would spend nearly all its time re-invoking the Kafka reads
        executor._SerialEvaluationState._update_currently_evaluating = _fifo_update
        evaluation_context.EvaluationContext._commit_bundles = _commit_non_empty
        _cache_introspection()
        for override in _get_transform_overrides(options):
            pipeline._replace(override)
        return super().run_pipeline(pipeline, options)
