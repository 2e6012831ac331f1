"""``EpochLoop``: the training loop of a built :class:`~clara_core.workflow.train_setup.TrainSetup`.

Epochs of steps from where the run's :class:`~clara_core.components.run_state.RunState`
left off (a resumed run continues at its step), validation when due, one record and
one resume point per epoch, handler events, and the run's
:class:`~clara_core.components.run_state.StopSignal`: a handler's request ends
training after the epoch; a signal, here or on a peer, at the next step (the step
sums every worker's stop flag, so all of them stop at the same step).

:meth:`EpochLoop.run_epoch` is also the public way in for benchmarks: its
``batches`` argument replaces the training pipeline's feed with batches given as
they are (``benchmarks/train_overhead.py`` feeds preloaded tensors).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from clara_core.components.run_state import RunState, StopSignal
from clara_core.errors import ClaraError
from clara_core.workflow.events import RunEvents
from clara_core.workflow.metrics_log import MetricsLog, format_record
from clara_core.workflow.progress import TrainProgress
from clara_core.workflow.train_setup import TrainSetup


def feed_options() -> Any:
    """``tf.data`` options for the training feed: autotuning off.

    The pipeline sets its own worker count and prefetch depth. Left on, tf.data's
    autotuner adds threads that compete with the train step for the CPU: on a
    2-core machine steps were up to 40% slower (benchmarks/train_overhead.py).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


class EpochLoop:
    """Trains ``setup`` from ``state``; ``metrics_log`` gets the records (None: kept
    nowhere), ``bar`` shows progress (None: none), ``validate`` runs a validation
    (None: never) and ``events`` hears the run's events (None: the setup's handlers
    only)."""

    def __init__(self, setup: TrainSetup, state: RunState, metrics_log: MetricsLog | None = None,
                 bar: TrainProgress | None = None,
                 validate: Callable[[], dict[str, float]] | None = None,
                 events: RunEvents | None = None) -> None:
        self.setup, self.state, self.metrics_log = setup, state, metrics_log
        self.events = events or RunEvents(state, handlers=setup.handlers)
        self.bar = bar or TrainProgress(state.epochs, state.epochs_done, enabled=False,
                                        log=state.log)
        self.validate = validate
        self.stop: StopSignal = state.stop_signal
        self.iteration = int(setup.optimizer.iterations.numpy())  # a MirroredVariable too
        self._aux_values: dict[str, list[float]] = {}

    # -- epochs --------------------------------------------------------------------------

    def run(self, t0: float) -> bool:
        """Train the remaining epochs; True when a signal stopped the run before its
        last epoch. In a cluster, a failed collective (a worker died or stopped
        answering) ends the run with a message naming the worker."""
        if self.setup.placement.cluster is None:
            return self._epochs(t0)
        import tensorflow as tf

        try:
            return self._epochs(t0)
        except tf.errors.OpError as exc:
            raise self.setup.placement.peer_failure(exc) from exc

    def _epochs(self, t0: float) -> bool:
        state, events = self.state, self.events
        epochs = self.setup.settings.epochs
        for epoch in range(state.epochs_done, epochs):
            state.start_epoch()
            events.epoch_started()
            record = self.run_epoch(epoch)
            if record is None:  # stopped at a step: a resume point was written mid-epoch
                return True
            self._end_epoch(epoch, record)
            state.seconds = time.perf_counter() - t0
            events.epoch_completed(epoch + 1, record)
            if self.stop.after_epoch:
                state.log(f"a handler stopped training after epoch {epoch + 1}")
                return False
            if self.stop.at_step and self.setup.placement.cluster is None:  # a cluster
                return epoch + 1 < epochs  # stops at a step, where all workers agree
        return False

    def _end_epoch(self, epoch: int, record: dict[str, Any]) -> None:
        """Validate when due, then record the epoch: log line, checkpoints, bar."""
        state, setup = self.state, self.setup
        if self.validate is not None and self._validation_due(epoch):
            state.metrics = self.validate()
            record.update(state.metrics)
            self.events.call("clara_validation_ended", epoch=epoch + 1,
                             metrics=dict(state.metrics))
            self._track_best()
        state.complete_epoch(record)
        state.lr_policy = setup.lr_policy.get_state() if setup.lr_policy else {}
        if self.metrics_log is not None:
            self.metrics_log.append(record)  # durable before the resume point covering it
        for path, kind in setup.checkpoints.epoch(state):
            self.events.call("clara_checkpoint_saved", path=path, kind=kind)
        state.log(format_record(record))

    def _validation_due(self, epoch: int) -> bool:
        every = self.setup.settings.num_training_epoch_per_valid
        return self.setup.valid_pipeline is not None and (
            (epoch + 1) % every == 0 or epoch + 1 == self.setup.settings.epochs)

    def _track_best(self) -> None:
        """After a validation: feed the lr policy and keep the best weights."""
        s, setup = self.state, self.setup
        if s.key_metric is None:
            return
        value = s.metrics[s.key_metric]
        if setup.lr_policy is not None:
            setup.lr_policy.update_metric(value)
        if math.isnan(value):
            return
        best = s.best_key_metric
        if best is None or (value > best if setup.key_higher_is_better else value < best):
            s.best_key_metric, s.best_epoch = value, s.epoch
            self.events.call("clara_checkpoint_saved", path=setup.checkpoints.best(),
                             kind="best")

    # -- steps ---------------------------------------------------------------------------

    def learning_rate(self, epoch: int) -> float:
        settings, policy = self.setup.settings, self.setup.lr_policy
        if policy is None:
            return float(settings.learning_rate)
        return float(policy.get_learning_rate(epoch, settings.learning_rate, settings.epochs))

    def run_epoch(self, epoch: int, batches: Iterable[Any] | None = None
                  ) -> dict[str, Any] | None:
        """One epoch (from ``state.step`` when resuming mid-epoch): its record, or None
        when a signal stopped it (after writing a resume point).

        ``batches`` (``(images, labels)`` pairs as the step takes them: arrays or
        tensors on one replica, distributed values or a distributed dataset on several)
        replaces the training pipeline's feed for this epoch.
        """
        state, setup, bar = self.state, self.setup, self.bar
        lr = self.learning_rate(epoch)
        setup.optimizer.learning_rate.assign(lr)
        state.learning_rate = lr
        bar.start_epoch(epoch)
        t0 = time.perf_counter()
        self._aux_values = {tag: [] for op in setup.aux_ops for tag in op.output_tags()}
        feed = self._feed(epoch) if batches is None else itertools.islice(
            batches, state.step, None)
        # A step's loss is read back after the next step is dispatched, so the host never
        # waits on the device between steps; the NaN check and the stop still fall at
        # the step they concern.
        pending = None
        for images, labels in feed:
            done = setup.train_step(images, labels, self._stop_flag())
            if pending is not None and self._settle(epoch, pending):
                self._settle(epoch, done)  # dispatched already: count it, then stop
                self._stopped()
                return None
            pending = done
        if pending is not None and self._settle(epoch, pending):
            self._stopped()
            return None
        bar.end_epoch()
        record = {"epoch": epoch + 1, "loss": float(np.mean(state.step_losses)), "lr": lr,
                  "steps": len(state.step_losses), "seconds": round(time.perf_counter() - t0, 2)}
        record.update({tag: float(np.mean(v)) for tag, v in self._aux_values.items() if v})
        return record

    def _stopped(self) -> None:
        """A stop at a step: the resume point that continues from it."""
        path = self.setup.checkpoints.resume_point(self.state)
        self.events.call("clara_checkpoint_saved", path=path, kind="resume")

    def _feed(self, epoch: int) -> Iterable[Any]:
        """The pipeline's batches of the epoch from the step a resumed run continues at."""
        setup, step = self.setup, self.state.step
        if setup.placement.num_replicas == 1:
            # one device: NumPy batches straight into the compiled step (tf.data's
            # generator bridge halved the crops/s, benchmarks/pipeline_vs_monai.py)
            return itertools.islice(setup.train_pipeline.feed(epoch), step, None)
        if setup.sharded:  # each replica its own cases, same steps
            feed = itertools.islice(setup.train_pipeline.replica_feed(epoch), step, None)
            return (setup.placement.distribute(per_replica) for per_replica in feed)
        dataset = setup.train_pipeline.get_dataset(epoch)
        if step:
            dataset = dataset.skip(step)
        distributed: Iterable[Any] = setup.strategy.experimental_distribute_dataset(
            dataset.with_options(feed_options()))
        return distributed

    def _stop_flag(self) -> Any:
        """1 once this process was asked to stop at a step: the step sums it over every
        worker."""
        import tensorflow as tf

        return tf.constant(1.0 if self.stop.at_step else 0.0)

    def _settle(self, epoch: int, done: tuple[Any, Any, Any]) -> bool:
        """Read back a dispatched step: record its loss, stop on NaN; True when this
        step carried a stop request of any worker (all of them see it at this step)."""
        state = self.state
        loss_tensor, aux, stops = done
        loss = float(loss_tensor)
        for tag, value in aux.items():
            self._aux_values[tag].append(float(value))
        if not math.isfinite(loss):
            raise ClaraError(
                f"Loss became {loss} at epoch {epoch + 1}, step {state.step + 1}; stopping. "
                f"The last good checkpoint is in {self.setup.folder.path} (resume point of "
                f"epoch {state.epochs_done}). Lower learning_rate, or check the data "
                "for NaN in images or labels outside the class range.")
        state.step += 1
        state.step_losses.append(loss)
        state.loss = loss
        self.iteration += 1
        interval = self.setup.settings.train_summary_recording_interval
        if interval and self.iteration % interval == 0:
            self._summary({"loss": loss, **{
                tag: values[-1] for tag, values in self._aux_values.items()}})
        self.events.iteration_completed()
        self.bar.step(loss, self.setup.train_pipeline.get_batch_size())
        if float(stops) == 0:  # every worker decides on the summed flag, at one step
            return False
        if not self.stop.at_step:
            self.stop.request(StopSignal.PEER)
            state.log("\nanother worker was asked to stop: stopping after this step and "
                      "writing a checkpoint")
        return True


    def _summary(self, values: dict[str, float]) -> None:
        """The step's values at the summary interval: TensorBoard, then the hooks."""
        if self.metrics_log is not None:
            self.metrics_log.step(self.iteration, values)
        self.events.call("clara_train_summary", iteration=self.iteration, metrics=values)


__all__ = ["EpochLoop", "feed_options"]
