"""A random controller and a handler written against the SDK's AutoML API (the
BYOC AutoML notebook's kind): they import the SDK's module names and run unchanged."""

import random

from automl.components.controllers.controller import Controller
from automl.components.handlers.handler import Handler
from automl.defs import ContextKey, Recommendation, SearchResult


class RandomController(Controller):
    def __init__(self, max_rounds=1000):
        Controller.__init__(self)
        self.max_rounds = max_rounds
        self.space = None
        self.next_id = 0
        self.scores = []
        self.rng = random.Random(0)

    def set_search_space(self, space, ctx):
        self.space = space

    def _sample(self, count):
        recs = []
        for _ in range(count):
            values = {}
            for key, ranges in self.space.targets.items():
                if ".enum" in key:
                    values[key] = self.rng.randint(0, len(ranges) - 1)
                else:
                    values[key] = self.rng.uniform(ranges[0].min, ranges[0].max)
            recs.append(Recommendation(self.next_id, SearchResult(self.space, values)))
            self.next_id += 1
        return recs

    def initial_recommendation(self, ctx):
        return self._sample(1)

    def refine_recommendation(self, outcome, ctx):
        self.scores.append((outcome.score, outcome.recommendation_id))
        if len(self.scores) >= self.max_rounds:
            ctx.stop_work(self, f"Number of runs reached {self.max_rounds}. Requesting stop.")
            return []
        return self._sample(1)


class MyHandler(Handler):
    def __init__(self):
        Handler.__init__(self)
        self.ended = []

    def end_job(self, ctx):
        values = ctx.get_prop(ContextKey.CONCRETE_SEARCH_VALUE)
        params = {k.split(":")[1]: v[0] for k, v in values.items()}
        print(f"my handler: {ctx.get_prop(ContextKey.JOB_NAME)} {params} "
              f"score {ctx.get_prop(ContextKey.SCORE)}", flush=True)
