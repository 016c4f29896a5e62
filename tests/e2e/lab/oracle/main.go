// Oracle: Argo's shouldExecute (govaluate) and expression evaluation (expr-lang + Argo's env), one JSON line per case.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/Knetic/govaluate"
	sprig "github.com/Masterminds/sprig/v3"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
)

func shouldExecute(when string) (bool, error) {
	if when == "" {
		return true, nil
	}
	expression, err := govaluate.NewEvaluableExpression(when)
	if err != nil {
		if strings.Contains(err.Error(), "Invalid token") {
			return false, fmt.Errorf("Invalid 'when' expression '%s': %v (hint: try wrapping the affected expression in quotes (\"))", when, err)
		}
		return false, fmt.Errorf("Invalid 'when' expression '%s': %v", when, err)
	}
	tokens := expression.Tokens()
	for i, tok := range tokens {
		switch tok.Kind {
		case govaluate.VARIABLE:
			tok.Kind = govaluate.STRING
		default:
			continue
		}
		tokens[i] = tok
	}
	expression, err = govaluate.NewEvaluableExpressionFromTokens(tokens)
	if err != nil {
		return false, fmt.Errorf("Failed to parse 'when' expression '%s': %v", when, err)
	}
	result, err := expression.Evaluate(nil)
	if err != nil {
		return false, fmt.Errorf("Failed to evaluate 'when' expresion '%s': %v", when, err)
	}
	boolRes, ok := result.(bool)
	if !ok {
		return false, fmt.Errorf("Expected boolean evaluation for '%s'. Got %v", when, result)
	}
	return boolRes, nil
}

var sprigFuncMap = sprig.GenericFuncMap()

func env(m map[string]any) map[string]any {
	delete(sprigFuncMap, "env")
	delete(sprigFuncMap, "expandenv")
	m["asInt"] = builtin.Int
	m["asFloat"] = builtin.Float
	m["toJson"] = func(v any) string { b, _ := json.Marshal(v); return string(b) }
	m["sprig"] = sprigFuncMap
	return m
}

func main() {
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for scanner.Scan() {
		var c struct {
			Kind string         `json:"kind"`
			Text string         `json:"text"`
			Env  map[string]any `json:"env"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &c); err != nil {
			panic(err)
		}
		res := map[string]any{"kind": c.Kind, "text": c.Text}
		switch c.Kind {
		case "when":
			v, err := shouldExecute(c.Text)
			if err != nil {
				res["error"] = err.Error()
			} else {
				res["value"] = v
			}
		case "expr":
			e := env(c.Env)
			func() {
				defer func() {
					if r := recover(); r != nil {
						res["error"] = fmt.Sprint(r)
					}
				}()
				program, err := expr.Compile(c.Text, expr.Env(e))
				if err != nil {
					res["error"] = "compile: " + err.Error()
					return
				}
				v, err := expr.Run(program, e)
				if err != nil {
					res["error"] = "run: " + err.Error()
					return
				}
				b, err := json.Marshal(v)
				if err != nil {
					res["error"] = "marshal: " + err.Error()
					return
				}
				res["value"] = string(b)
				res["type"] = fmt.Sprintf("%T", v)
			}()
		}
		out.Encode(res)
	}
}
